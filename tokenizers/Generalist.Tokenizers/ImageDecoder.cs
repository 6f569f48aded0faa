using SkiaSharp;

namespace Generalist.Tokenizers;

/// <summary>
/// PNG/JPEG (any format SkiaSharp decodes) to <see cref="ImageData"/>. Grayscale images stay one
/// channel (the patcher replicates it); everything else becomes RGB. Transparent pixels are
/// composited onto black (premultiplied colour), so a transparent background reads as black.
/// </summary>
public static class ImageDecoder
{
    public static ImageData Decode(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"image file not found: {path}", path);
        return Decode(File.ReadAllBytes(path), path);
    }

    public static ImageData Decode(byte[] encoded, string name = "image")
    {
        using var codec = SKCodec.Create(new SKMemoryStream(encoded))
            ?? throw new InvalidDataException($"{name}: not an image SkiaSharp can decode (PNG, JPEG, ...)");
        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0) throw new InvalidDataException($"{name}: empty image");
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
