using System.Buffers.Binary;
using System.IO.Compression;
using Generalist.Datasets.Parsers;
using Generalist.Datasets.Sets;
using Generalist.Episodes;
using Generalist.TestSupport;

namespace Generalist.Datasets.Tests;

public sealed class IdxReaderTests : IDisposable
{
    private readonly TempDir _dir = new();

    internal static byte[] Idx(int[] dims, byte[] values)
    {
        var bytes = new byte[4 + 4 * dims.Length + values.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)dims.Length;
        for (var i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        values.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    internal static void WriteGzip(string path, byte[] bytes)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(bytes);
    }

    [Fact]
    public void Reads_raw_and_gzipped_files_alike()
    {
        var values = Enumerable.Range(0, 3 * 2 * 4).Select(i => (byte)(i * 7)).ToArray();
        var raw = _dir.File("images-idx3-ubyte");
        File.WriteAllBytes(raw, Idx([3, 2, 4], values));
        var gz = _dir.File("images-idx3-ubyte.gz");
        WriteGzip(gz, Idx([3, 2, 4], values));
        foreach (var path in new[] { raw, gz })
        {
            var array = IdxReader.Read(path);
            Assert.Equal([3, 2, 4], array.Dimensions);
            Assert.Equal(8, array.ItemSize);
            Assert.Equal(values.AsSpan(16, 8).ToArray(), array.Item(2).ToArray());
        }
    }

    [Fact]
    public void Truncated_and_foreign_files_are_refused_with_the_file_name()
    {
        var truncated = _dir.File("short");
        File.WriteAllBytes(truncated, Idx([10, 28, 28], new byte[100]));
        Assert.Contains("short", Assert.Throws<InvalidDataException>(() => IdxReader.Read(truncated)).Message);
        var floats = _dir.File("floats");
        var bytes = Idx([1], [0]);
        bytes[2] = 0x0D;
        File.WriteAllBytes(floats, bytes);
        Assert.Contains("0x0d", Assert.Throws<InvalidDataException>(() => IdxReader.Read(floats)).Message);
        var text = _dir.File("text");
        File.WriteAllText(text, "hello world");
        Assert.Contains("not an IDX file", Assert.Throws<InvalidDataException>(() => IdxReader.Read(text)).Message);
    }

    [Fact]
    public void Caption_source_pairs_each_image_with_its_class_words_and_holds_out_the_test_files()
    {
        // 2 training images and 1 test image of 2x2 pixels, gzipped like Fashion-MNIST.
        WriteGzip(_dir.File("train-images-idx3-ubyte.gz"), Idx([2, 2, 2], [0, 1, 2, 3, 10, 11, 12, 13]));
        WriteGzip(_dir.File("train-labels-idx1-ubyte.gz"), Idx([2], [7, 9]));
        WriteGzip(_dir.File("t10k-images-idx3-ubyte.gz"), Idx([1, 2, 2], [20, 21, 22, 23]));
        WriteGzip(_dir.File("t10k-labels-idx1-ubyte.gz"), Idx([1], [0]));
        var (train, heldOut) = IdxCaptionSets.FromDirectory("fashion-mnist", _dir.Path, IdxCaptionSets.FashionCaptions);
        Assert.Equal(2, train.Count);
        Assert.Equal(1, heldOut.Count);
        var episode = train.Get(1);
        Assert.Equal([10, 11, 12, 13], episode.Timesteps[0].Observation.Image!.Pixels);
        Assert.Equal((2, 2, 1), (episode.Timesteps[0].Observation.Image!.Height, episode.Timesteps[0].Observation.Image!.Width, episode.Timesteps[0].Observation.Image!.Channels));
        Assert.Equal("a photo of an ankle boot", episode.Timesteps[1].Observation.Text);
        Assert.Equal("a photo of a t-shirt", heldOut.Get(0).Timesteps[1].Observation.Text);
        Assert.Equal("a handwritten digit seven", IdxCaptionSets.DigitCaptions[7]);
    }

    [Fact]
    public void A_label_outside_the_captions_is_refused()
    {
        File.WriteAllBytes(_dir.File("train-images-idx3-ubyte"), Idx([1, 1, 1], [0]));
        File.WriteAllBytes(_dir.File("train-labels-idx1-ubyte"), Idx([1], [12]));
        File.WriteAllBytes(_dir.File("t10k-images-idx3-ubyte"), Idx([1, 1, 1], [0]));
        File.WriteAllBytes(_dir.File("t10k-labels-idx1-ubyte"), Idx([1], [0]));
        var e = Assert.Throws<InvalidDataException>(() => IdxCaptionSets.FromDirectory("mnist", _dir.Path, IdxCaptionSets.DigitCaptions));
        Assert.Contains("label 12 outside [0, 9]", e.Message);
    }

    public void Dispose() => _dir.Dispose();
}
