using Generalist.Episodes;

namespace Generalist.Tokenizers;

/// <summary>
/// Images to non-overlapping P x P patches in raster order (row by row, left to right).
/// Each patch is a vector of 3·P·P floats in (channel, row, column) order; grayscale images are
/// replicated to 3 channels. A pixel value v in [0, 255] becomes (v / 127.5 − 1) / sqrt(P).
/// Images whose sides are not multiples of P are padded on the right and bottom up to the next
/// multiple; padded values are 0.0 after normalization (mid-gray), which adds nothing to the
/// patch embedding's linear input.
/// </summary>
public sealed class ImagePatcher
{
    public const int Channels = 3;
    private readonly float[] _lut = new float[256];

    public int PatchSize { get; }
    public int PatchLength => Channels * PatchSize * PatchSize;

    public ImagePatcher(int patchSize = 16)
    {
        if (patchSize is < 1 or > 256) throw new ArgumentOutOfRangeException(nameof(patchSize), patchSize, "patch_size must be in [1, 256]");
        PatchSize = patchSize;
        var scale = 1f / MathF.Sqrt(patchSize);
        for (var v = 0; v < 256; v++) _lut[v] = (v / 127.5f - 1f) * scale;
    }

    /// <summary>The normalized value of one 8-bit pixel value.</summary>
    public float Normalize(byte value) => _lut[value];

    public int PatchRows(ImageData image) => (image.Height + PatchSize - 1) / PatchSize;
    public int PatchCols(ImageData image) => (image.Width + PatchSize - 1) / PatchSize;
    public int PatchCount(ImageData image) => PatchRows(image) * PatchCols(image);

    public static void Validate(ImageData image, string field = "observation.image")
    {
        if (image.Height <= 0 || image.Width <= 0) throw new ArgumentException($"{field}: height and width must be positive (got {image.Height}x{image.Width})");
        if (image.Channels is not (1 or 3)) throw new ArgumentException($"{field}.channels must be 1 or 3 (got {image.Channels})");
        if (image.Pixels.Length != image.Height * image.Width * image.Channels)
            throw new ArgumentException($"{field}.pixels must hold height*width*channels = {image.Height * image.Width * image.Channels} bytes (got {image.Pixels.Length})");
    }

    /// <summary>
    /// Writes PatchCount(image) patches into <paramref name="destination"/> (PatchCount · PatchLength floats)
    /// in raster order. The hot loop converts each pixel row once through a lookup table and copies
    /// P-float runs; no allocation.
    /// </summary>
    public unsafe void Patchify(ImageData image, Span<float> destination)
    {
        Validate(image);
        int p = PatchSize, rows = PatchRows(image), cols = PatchCols(image), h = image.Height, w = image.Width, c = image.Channels;
        var patchLength = PatchLength;
        if (destination.Length < rows * cols * patchLength) throw new ArgumentException("destination too small for the image's patches", nameof(destination));
        var paddedWidth = cols * p;
        // One normalized image row per channel, padded with zeros to a multiple of P.
        Span<float> rowBuffer = paddedWidth * Channels <= 4096 ? stackalloc float[paddedWidth * Channels] : new float[paddedWidth * Channels];
        rowBuffer.Clear();
        fixed (byte* pixels = image.Pixels)
        fixed (float* lut = _lut)
        fixed (float* dst = destination)
        fixed (float* row = rowBuffer)
        {
            for (var y = 0; y < rows * p; y++)
            {
                var py = y / p;
                var yIn = y - py * p;
                if (y < h)
                {
                    var src = pixels + (long)y * w * c;
                    if (c == 1)
                    {
                        for (var x = 0; x < w; x++) row[x] = lut[src[x]];
                        new Span<float>(row, w).CopyTo(new Span<float>(row + paddedWidth, w));
                        new Span<float>(row, w).CopyTo(new Span<float>(row + 2 * paddedWidth, w));
                    }
                    else
                    {
                        float* r0 = row, r1 = row + paddedWidth, r2 = row + 2 * paddedWidth;
                        for (var x = 0; x < w; x++)
                        {
                            r0[x] = lut[src[3 * x]];
                            r1[x] = lut[src[3 * x + 1]];
                            r2[x] = lut[src[3 * x + 2]];
                        }
                    }
                }
                else if (y == h)
                {
                    rowBuffer.Clear(); // bottom padding rows
                }
                for (var px = 0; px < cols; px++)
                {
                    var patch = dst + (long)(py * cols + px) * patchLength;
                    for (var ch = 0; ch < Channels; ch++)
                        Buffer.MemoryCopy(row + ch * paddedWidth + px * p, patch + (ch * p + yIn) * p, p * sizeof(float), p * sizeof(float));
                }
            }
        }
    }

    /// <summary>Allocating convenience: all patches of one image, (PatchCount, 3·P·P) row-major.</summary>
    public float[] Patchify(ImageData image)
    {
        Validate(image);
        var result = new float[PatchCount(image) * PatchLength];
        Patchify(image, result);
        return result;
    }
}
