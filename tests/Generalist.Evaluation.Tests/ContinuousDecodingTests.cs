using Generalist.Evaluation.Scoring;
using Generalist.Tokenizers;

namespace Generalist.Evaluation.Tests;

/// <summary>Each continuous decoding mode on synthetic bin distributions.</summary>
public class ContinuousDecodingTests
{
    private const int Bins = ContinuousTokenizer.Bins;

    private static float[] Distribution(params (int Bin, float Mass)[] masses)
    {
        var p = new float[Bins];
        foreach (var (bin, mass) in masses) p[bin] += mass;
        var total = p.Sum();
        return p.Select(v => v / total).ToArray();
    }

    /// <summary>A lone spike at bin 100 (0.05) beside a broad bump centred on bin 700 whose bins each hold less (≈0.03).</summary>
    private static float[] SpikeAndBump() =>
        Distribution([(100, 0.05f), .. Enumerable.Range(670, 61).Select(b => (b, 0.03f * MathF.Exp(-0.5f * (b - 700) * (b - 700) / 400f)))]);

    [Fact]
    public void ModeIsTheCentreOfTheMostLikelyBin()
    {
        Assert.Equal(ContinuousTokenizer.BinCentre(100), ContinuousActionDecoder.Decode(SpikeAndBump(), ContinuousDecoding.Mode));
        Assert.Equal(ContinuousTokenizer.BinCentre(1023), ContinuousActionDecoder.Decode(Distribution((1023, 1f)), ContinuousDecoding.Mode));
    }

    [Fact]
    public void ExpectedIsTheMeanInActionSpace()
    {
        // Two equal modes: the mean lies between them, at neither bin.
        var between = ContinuousActionDecoder.Decode(Distribution((256, 1f), (768, 1f)), ContinuousDecoding.Expected);
        Assert.Equal((ContinuousTokenizer.BinCentre(256) + ContinuousTokenizer.BinCentre(768)) / 2, between, 5);
        var p = SpikeAndBump();
        var mean = Enumerable.Range(0, Bins).Sum(i => (double)p[i] * ContinuousTokenizer.BinCentre(i));
        Assert.Equal(mean, ContinuousActionDecoder.Decode(p, ContinuousDecoding.Expected), 5);
        Assert.Equal(-1 + 1f / Bins, ContinuousActionDecoder.Decode(Distribution((0, 1f)), ContinuousDecoding.Expected), 6);
    }

    [Fact]
    public void SmoothedFindsTheDenseRegionNotTheLoneSpike()
    {
        var smoothed = ContinuousActionDecoder.Decode(SpikeAndBump(), ContinuousDecoding.Smoothed);
        Assert.Equal(ContinuousTokenizer.BinCentre(700), smoothed, 5);
        // A saturated action at the edge of the range stays there (the kernel is renormalized inside the range).
        Assert.Equal(ContinuousTokenizer.BinCentre(0), ContinuousActionDecoder.Decode(Distribution((0, 0.6f), (40, 0.4f)), ContinuousDecoding.Smoothed));
        // A flat distribution stays flat under smoothing.
        Assert.All(ContinuousActionDecoder.Smooth(Enumerable.Repeat(1f / Bins, Bins).ToArray(), 8), v => Assert.Equal(1f / Bins, v, 6));
        Assert.Throws<ArgumentException>(() => ContinuousActionDecoder.Smooth(new float[Bins], 0));
    }

    [Theory]
    [InlineData(ContinuousDecoding.Mode)]
    [InlineData(ContinuousDecoding.Expected)]
    [InlineData(ContinuousDecoding.Smoothed)]
    public void EveryDecodedValueIsAValidActionWithAValidBin(ContinuousDecoding decoding)
    {
        var random = new Random(3);
        for (var trial = 0; trial < 20; trial++)
        {
            var p = Distribution(Enumerable.Range(0, 5).Select(_ => (random.Next(Bins), (float)random.NextDouble() + 0.01f)).ToArray());
            var value = ContinuousActionDecoder.Decode(p, decoding);
            Assert.InRange(value, -1f, 1f);
            Assert.InRange(ContinuousTokenizer.Bin(value), 0, Bins - 1);
        }
    }

    [Fact]
    public void NamesParseAndABadNameNamesTheOption()
    {
        Assert.Equal(ContinuousDecoding.Smoothed, ContinuousActionDecoder.Parse("smoothed"));
        Assert.Equal("expected", ContinuousActionDecoder.Name(ContinuousDecoding.Expected));
        var e = Assert.Throws<ArgumentException>(() => ContinuousActionDecoder.Parse("mean"));
        Assert.Equal("continuous-decoding: must be one of mode, expected, smoothed (got 'mean')", e.Message);
    }
}
