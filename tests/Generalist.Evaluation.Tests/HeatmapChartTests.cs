using Generalist.Evaluation.Reporting;
using SkiaSharp;

namespace Generalist.Evaluation.Tests;

public class HeatmapChartTests
{
    /// <summary>Pixels down the middle of the image that are coloured (viridis), not white, grey or black.</summary>
    private static int ColouredPixelsDownTheMiddle(string png)
    {
        using var bitmap = SKBitmap.Decode(png);
        var x = bitmap.Width / 2 - 40;
        var coloured = 0;
        for (var y = 0; y < bitmap.Height; y++)
        {
            var p = bitmap.GetPixel(x, y);
            if (Math.Abs(p.Red - p.Green) + Math.Abs(p.Green - p.Blue) + Math.Abs(p.Red - p.Blue) > 80) coloured++;
        }
        return coloured;
    }

    [Theory]
    [InlineData(3, 1)]  // one evaluated task (a study's single control task): drew nothing before
    [InlineData(1, 3)]
    [InlineData(3, 3)]
    public void Every_cell_is_drawn_whatever_the_matrix_shape(int rows, int cols)
    {
        var dir = Directory.CreateTempSubdirectory("heatmap").FullName;
        try
        {
            var values = new double[rows, cols];
            for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++) values[r, c] = r * cols + c;
            var files = Charts.Heatmap(dir, "h", new HeatmapSpec("t", "rows", "cols",
                Enumerable.Range(0, rows).Select(r => $"r{r}").ToList(), Enumerable.Range(0, cols).Select(c => $"c{c}").ToList(), values, "v"));
            // The data area fills most of the plot's height; the broken render left it white.
            Assert.True(ColouredPixelsDownTheMiddle(files.Png) > 300, $"{rows}x{cols}: {ColouredPixelsDownTheMiddle(files.Png)} coloured pixels");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
