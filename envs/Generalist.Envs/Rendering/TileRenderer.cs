using SkiaSharp;
using Generalist.Episodes;

namespace Generalist.Envs;

/// <summary>
/// Draws a grid of coloured tiles with SkiaSharp into a reusable raster surface and reads it back
/// as <see cref="ImageData"/> (RGB, or grayscale when every palette colour is gray). One renderer
/// per environment instance: not thread-safe, but allocation-free per frame apart from the result.
/// </summary>
public sealed class TileRenderer : IDisposable
{
    private readonly SKBitmap bitmap;
    private readonly SKCanvas canvas;
    private readonly SKPaint[] paints;
    private readonly SKColor background;

    public TileRenderer(int rows, int columns, int tilePixels, IReadOnlyList<SKColor> palette, SKColor background, bool grayscale)
    {
        Rows = rows;
        Columns = columns;
        TilePixels = tilePixels;
        Grayscale = grayscale;
        this.background = background;
        bitmap = new SKBitmap(new SKImageInfo(columns * tilePixels, rows * tilePixels, SKColorType.Rgba8888, SKAlphaType.Opaque));
        canvas = new SKCanvas(bitmap);
        paints = palette.Select(c => new SKPaint { Color = c, IsAntialias = false, Style = SKPaintStyle.Fill }).ToArray();
    }

    public int Rows { get; }
    public int Columns { get; }
    public int TilePixels { get; }
    public bool Grayscale { get; }
    public int Height => Rows * TilePixels;
    public int Width => Columns * TilePixels;

    /// <summary>Draws one frame: <paramref name="tileColor"/>(row, col) gives a palette index, or -1 for background.</summary>
    public ImageData Render(Func<int, int, int> tileColor)
    {
        canvas.Clear(background);
        for (var r = 0; r < Rows; r++)
            for (var c = 0; c < Columns; c++)
            {
                var index = tileColor(r, c);
                if (index >= 0) DrawTile(canvas, r, c, index);
            }
        return ReadBack();
    }

    /// <summary>
    /// Draws one frame from a pre-rendered layer (see <see cref="RenderLayer"/>) whose tile
    /// (<paramref name="layerRow"/>, <paramref name="layerColumn"/>) lands on the frame's top-left,
    /// (or nothing when it is null), then the given tiles on top (frame coordinates; tiles outside the frame are skipped).
    /// Static scenery is drawn once per level this way, and only moving pieces per step.
    /// </summary>
    public ImageData Render(SKImage? layer, int layerRow, int layerColumn, ReadOnlySpan<(int Row, int Column, int Color)> tiles)
    {
        canvas.Clear(background);
        if (layer is not null)
            canvas.DrawImage(layer, SKRect.Create(layerColumn * TilePixels, layerRow * TilePixels, Width, Height), SKRect.Create(0, 0, Width, Height));
        foreach (var (r, c, color) in tiles)
            if (r >= 0 && r < Rows && c >= 0 && c < Columns) DrawTile(canvas, r, c, color);
        return ReadBack();
    }

    /// <summary>Renders a grid of any size (e.g. a whole level's walls and goals) once, for <see cref="Render(SKImage?, int, int, ReadOnlySpan{ValueTuple{int, int, int}})"/>.</summary>
    public SKImage RenderLayer(int rows, int columns, Func<int, int, int> tileColor)
    {
        using var surface = SKSurface.Create(new SKImageInfo(columns * TilePixels, rows * TilePixels, SKColorType.Rgba8888, SKAlphaType.Opaque));
        surface.Canvas.Clear(background);
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < columns; c++)
            {
                var index = tileColor(r, c);
                if (index >= 0) DrawTile(surface.Canvas, r, c, index);
            }
        return surface.Snapshot();
    }

    private void DrawTile(SKCanvas target, int row, int column, int color) =>
        target.DrawRect(column * TilePixels, row * TilePixels, TilePixels, TilePixels, paints[color]);

    private ImageData ReadBack()
    {
        canvas.Flush();
        var rgba = bitmap.GetPixelSpan();
        var n = Width * Height;
        if (Grayscale)
        {
            var gray = new byte[n];
            for (var i = 0; i < n; i++) gray[i] = rgba[4 * i]; // palette is gray: R = G = B
            return new ImageData(Height, Width, 1, gray);
        }
        var rgb = new byte[3 * n];
        for (var i = 0; i < n; i++)
        {
            rgb[3 * i] = rgba[4 * i];
            rgb[3 * i + 1] = rgba[4 * i + 1];
            rgb[3 * i + 2] = rgba[4 * i + 2];
        }
        return new ImageData(Height, Width, 3, rgb);
    }

    public void Dispose()
    {
        foreach (var p in paints) p.Dispose();
        canvas.Dispose();
        bitmap.Dispose();
    }
}
