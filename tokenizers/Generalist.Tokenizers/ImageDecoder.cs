using SkiaSharp;
using Generalist.Episodes;

namespace Generalist.Tokenizers;

/// <summary>
/// PNG/JPEG (any format SkiaSharp decodes) to <see cref="ImageData"/>. Grayscale images stay one
/// channel (the patcher replicates it); everything else becomes RGB. Transparent pixels are
/// composited onto black (premultiplied colour), so a transparent background reads as black.
/// </summary>
public static class ImageDecoder
{
    /// <summary>
    /// The largest image decoded: 4096 x 4096 pixels (64 MiB as RGBA while decoding), far above
    /// any the tasks use (28 x 28 digits, 64 x 64 emoji) and still safe to hold several of. The
    /// size is read from the header, before any pixel is allocated.
    /// </summary>
    public const int MaxSide = 4096;
    /// <summary>The largest image file read: 64 MiB.</summary>
    public const long MaxFileBytes = 64L << 20;

    public static ImageData Decode(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"image file not found: {path}", path);
        var length = new FileInfo(path).Length;
        if (length > MaxFileBytes) throw new InvalidDataException($"{path}: the file is {length >> 20} MiB; image files are at most {MaxFileBytes >> 20} MiB");
        return Decode(File.ReadAllBytes(path), path);
    }

    public static ImageData Decode(byte[] encoded, string name = "image")
    {
        using var codec = SKCodec.Create(new SKMemoryStream(encoded))
            ?? throw new InvalidDataException($"{name}: not an image SkiaSharp can decode (PNG, JPEG, ...)");
        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0) throw new InvalidDataException($"{name}: empty image");
        if (info.Width > MaxSide || info.Height > MaxSide)
            throw new InvalidDataException($"{name}: {info.Width}x{info.Height} pixels is larger than the {MaxSide}x{MaxSide} an image may be; scale it down first");
        var gray = info.ColorType == SKColorType.Gray8;
        var target = new SKImageInfo(info.Width, info.Height, gray ? SKColorType.Gray8 : SKColorType.Rgba8888, gray ? SKAlphaType.Opaque : SKAlphaType.Premul);
        var raw = new byte[target.BytesSize];
        unsafe
        {
            fixed (byte* p = raw)
            {
                var result = codec.GetPixels(target, (nint)p);
                if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
                    throw new InvalidDataException($"{name}: decoding failed ({result})");
            }
        }
        if (gray) return new ImageData(info.Height, info.Width, 1, raw);
        // RGBA (premultiplied = composited onto black) to RGB.
        var n = info.Width * info.Height;
        var rgb = new byte[n * 3];
        for (var i = 0; i < n; i++)
        {
            rgb[3 * i] = raw[4 * i];
            rgb[3 * i + 1] = raw[4 * i + 1];
            rgb[3 * i + 2] = raw[4 * i + 2];
        }
        return new ImageData(info.Height, info.Width, 3, rgb);
    }
}
