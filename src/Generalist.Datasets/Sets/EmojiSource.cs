using System.Collections.Concurrent;
using Generalist.Datasets.Cache;
using SkiaSharp;
using Generalist.Episodes;

namespace Generalist.Datasets.Sets;

/// <summary>
/// Emoji pictures captioned with their Unicode names (npm emoji-datasource-twitter, Twemoji artwork,
/// CC-BY 4.0). The 64x64 RGBA PNGs are decoded with SkiaSharp, composited on white (transparent
/// pixels carry no colour) and downscaled to 32x32 RGB with mipmapped linear filtering: 4 patches of
/// 16x16 instead of 16 keep an episode short. Each PNG is decoded on first use and kept.
/// </summary>
public sealed class EmojiSource : IEpisodeSource
{
    public const string TaskName = "emoji";
    public const int DefaultSize = 32;

    private readonly IReadOnlyList<EmojiEntry> _entries;
    private readonly string _imageDirectory;
    private readonly int _size;
    private readonly ConcurrentDictionary<int, ImageData> _decoded = new();

    public EmojiSource(IReadOnlyList<EmojiEntry> entries, string imageDirectory, int size = DefaultSize)
    {
        if (size is < 1 or > 256) throw new ArgumentOutOfRangeException(nameof(size), size, "emoji image size must be in [1, 256]");
        _entries = entries;
        _imageDirectory = imageDirectory;
        _size = size;
    }

    public string Task => TaskName;
    public TaskFamily Family => TaskFamily.VisionLanguage;
    public int Count => _entries.Count;
    public EmojiEntry Entry(int index) => _entries[index];

    public Episode Get(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"episode index outside [0, {Count - 1}]");
        var image = _decoded.GetOrAdd(index, i => Decode(Path.Combine(_imageDirectory, _entries[i].Image), _size));
        return new Episode(TaskName,
        [
            new Timestep(new Observation(Image: image)),
            new Timestep(new Observation(Text: _entries[index].Name)),
        ]);
    }

    /// <summary>Both splits from an unpacked package: `emoji.json` and `img/twitter/64/`; held out by a hash of the name.</summary>
    public static (IEpisodeSource Train, IEpisodeSource HeldOut) FromPackage(string packageDirectory, int size = DefaultSize)
    {
        var entries = EmojiCatalog.Parse(Path.Combine(packageDirectory, "emoji.json"))
            .DistinctBy(e => e.Name) // one name appears twice (a later Unicode alias); keep one so no caption crosses splits
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .ToList();
        var images = Path.Combine(packageDirectory, "img", "twitter", "64");
        var (train, heldOut) = StableSplit.Partition(entries, e => e.Name);
        return (new EmojiSource(train, images, size), new EmojiSource(heldOut, images, size));
    }

    public static (IEpisodeSource Train, IEpisodeSource HeldOut) Load(PackageCache cache, Action<string>? log = null) =>
        FromPackage(Path.Combine(cache.Ensure(DataPackages.EmojiTwitter, log), "package"));

    public static ImageData Decode(string pngPath, int size)
    {
        if (!File.Exists(pngPath)) throw new FileNotFoundException($"emoji image {pngPath} does not exist", pngPath);
        using var image = SKImage.FromEncodedData(pngPath) ?? throw new InvalidDataException($"{pngPath}: not a decodable image");
        var info = new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var surface = SKSurface.Create(info);
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        canvas.DrawImage(image, new SKRect(0, 0, size, size), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        var rgba = new byte[size * size * 4];
        unsafe
        {
            fixed (byte* p = rgba)
                if (!surface.ReadPixels(info, (nint)p, size * 4, 0, 0)) throw new InvalidDataException($"{pngPath}: could not read back the resized pixels");
        }
        // Opaque after compositing on white, so premultiplied equals straight RGB; drop alpha.
        var rgb = new byte[size * size * 3];
        for (int i = 0, j = 0; i < rgba.Length; i += 4, j += 3)
        {
            rgb[j] = rgba[i];
            rgb[j + 1] = rgba[i + 1];
            rgb[j + 2] = rgba[i + 2];
        }
        return new ImageData(size, size, 3, rgb);
    }
}
