using Generalist.Evaluation.Scoring;
using SkiaSharp;
using Generalist.Episodes;

namespace Generalist.Evaluation.Reporting;

/// <summary>
/// Draws frames side by side as one PNG (SkiaSharp): each frame scaled up with nearest-neighbour
/// sampling (so pixels stay pixels), its index and the action taken under it.
/// </summary>
public static class Filmstrip
{
    private const int FrameHeight = 96;
    private const int Caption = 18;
    private const int Gap = 6;

    public static string Write(string directory, string name, IReadOnlyList<FilmstripFrame> frames)
    {
        if (frames.Count == 0) throw new ArgumentException($"filmstrip '{name}' has no frames");
        Directory.CreateDirectory(directory);
        var scale = Math.Max(1, FrameHeight / frames.Max(f => f.Image.Height));
        var widths = frames.Select(f => f.Image.Width * scale).ToArray();
        var width = widths.Sum() + Gap * (frames.Count + 1);
        var height = frames.Max(f => f.Image.Height) * scale + Caption + 2 * Gap;
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var font = new SKFont(SKTypeface.Default, 12);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        var x = Gap;
        for (var i = 0; i < frames.Count; i++)
        {
            var image = frames[i].Image;
            using var bitmap = ToBitmap(image);
            var dest = new SKRect(x, Gap, x + widths[i], Gap + image.Height * scale);
            using var nearest = SKImage.FromBitmap(bitmap);
            canvas.DrawImage(nearest, dest, new SKSamplingOptions(SKFilterMode.Nearest));
            canvas.DrawText($"t{i} a={frames[i].Action}", x, height - Gap, SKTextAlign.Left, font, ink);
            x += widths[i] + Gap;
        }
        var path = Path.Combine(directory, name + ".png");
        using var png = surface.Snapshot().Encode(SKEncodedImageFormat.Png, 100);
        var bytes = png.ToArray();
        AtomicFiles.Write(path, tmp => File.WriteAllBytes(tmp, bytes));
        return path;
    }

    private static SKBitmap ToBitmap(Generalist.Episodes.ImageData image)
    {
        var bitmap = new SKBitmap(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        for (var y = 0; y < image.Height; y++)
            for (var x = 0; x < image.Width; x++)
            {
                byte r = image[y, x, 0], g = image.Channels == 3 ? image[y, x, 1] : r, b = image.Channels == 3 ? image[y, x, 2] : r;
                bitmap.SetPixel(x, y, new SKColor(r, g, b));
            }
        return bitmap;
    }
}
