using FsCheck.Xunit;
using SkiaSharp;
using Generalist.Episodes;

namespace Generalist.Tokenizers.Tests;

public class ImagePatcherTests
{
    [Property(MaxTest = 100, Replay = "(5,9)")]
    public bool Every_pixel_value_is_scaled_to_minus_one_one_and_divided_by_sqrt_P(byte value, int patchChoice)
    {
        var p = new[] { 1, 2, 4, 8, 16 }[Math.Abs(patchChoice % 5)];
        var patcher = new ImagePatcher(p);
        var image = new ImageData(p, p, 3, Enumerable.Repeat(value, p * p * 3).ToArray());
        var expected = (value / 127.5f - 1f) / MathF.Sqrt(p);
        var patch = patcher.Patchify(image);
        return patch.Length == 3 * p * p && patch.All(x => Math.Abs(x - expected) < 1e-6f)
            && patch.All(x => x >= -1f / MathF.Sqrt(p) - 1e-6f && x <= 1f / MathF.Sqrt(p) + 1e-6f);
    }

    [Fact]
    public void Patches_are_in_raster_order_channel_major_and_padded_with_zero()
    {
        // 3 x 5 RGB image, P = 2 -> 2 x 3 patches; pixel (y, x, c) = 10*y + x + 100*c (distinct values).
        int h = 3, w = 5, p = 2;
        var pixels = new byte[h * w * 3];
        for (var y = 0; y < h; y++) for (var x = 0; x < w; x++) for (var c = 0; c < 3; c++) pixels[(y * w + x) * 3 + c] = (byte)(10 * y + x + 100 * c);
        var patcher = new ImagePatcher(p);
        var image = new ImageData(h, w, 3, pixels);
        Assert.Equal(6, patcher.PatchCount(image));
        var patches = patcher.Patchify(image);
        for (var pr = 0; pr < 2; pr++)
        for (var pc = 0; pc < 3; pc++)
        for (var c = 0; c < 3; c++)
        for (var dy = 0; dy < p; dy++)
        for (var dx = 0; dx < p; dx++)
        {
            int y = pr * p + dy, x = pc * p + dx;
            var expected = y < h && x < w ? patcher.Normalize(pixels[(y * w + x) * 3 + c]) : 0f;
            Assert.Equal(expected, patches[(pr * 3 + pc) * 12 + c * 4 + dy * 2 + dx]);
        }
    }

    [Fact]
    public void Grayscale_is_replicated_to_three_channels()
    {
        var rng = new Random(4);
        var gray = Fixtures.RandomImage(7, 9, 1, rng);
        var rgbPixels = new byte[7 * 9 * 3];
        for (var i = 0; i < 63; i++) rgbPixels[3 * i] = rgbPixels[3 * i + 1] = rgbPixels[3 * i + 2] = gray.Pixels[i];
        var patcher = new ImagePatcher(4);
        Assert.Equal(patcher.Patchify(new ImageData(7, 9, 3, rgbPixels)), patcher.Patchify(gray));
    }

    [Fact]
    public void Png_and_jpeg_decode_through_SkiaSharp()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(20, 12, SKColorType.Rgba8888, SKAlphaType.Premul));
        for (var y = 0; y < 12; y++) for (var x = 0; x < 20; x++) bitmap.SetPixel(x, y, new SKColor((byte)(x * 12), (byte)(y * 20), 77));
        using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        var decoded = ImageDecoder.Decode(png.ToArray());
        Assert.Equal((12, 20, 3), (decoded.Height, decoded.Width, decoded.Channels));
        Assert.Equal((byte)(5 * 12), decoded[3, 5, 0]);
        Assert.Equal((byte)(3 * 20), decoded[3, 5, 1]);
        Assert.Equal((byte)77, decoded[3, 5, 2]);

        using var jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 95);
        var j = ImageDecoder.Decode(jpeg.ToArray());
        Assert.Equal((12, 20, 3), (j.Height, j.Width, j.Channels));
        Assert.InRange(j[3, 5, 2], 60, 95); // lossy
        Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode([1, 2, 3, 4], "bad.png"));
    }

    [Fact]
    public void Invalid_images_are_refused_naming_the_field()
    {
        var e = Assert.Throws<ArgumentException>(() => ImagePatcher.Validate(new ImageData(2, 2, 3, new byte[5])));
        Assert.Contains("observation.image.pixels", e.Message);
        e = Assert.Throws<ArgumentException>(() => ImagePatcher.Validate(new ImageData(2, 2, 4, new byte[16])));
        Assert.Contains("channels must be 1 or 3", e.Message);
    }
}
