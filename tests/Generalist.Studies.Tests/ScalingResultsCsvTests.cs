using Generalist.Studies.Scaling;

namespace Generalist.Studies.Tests;

public class ScalingResultsCsvTests
{
    [Fact]
    public void ParsesColumnsInAnyOrderWithOptionalScoreAndComments()
    {
        var rows = ScalingResultsCsv.Parse("# a comment\nloss,task,tokens,params,score\n2.5,\"cart,pole\",1e6,1000,40\n2.1,text,1e6,2000,\n", "r.csv");
        Assert.Equal(2, rows.Count);
        Assert.Equal(new ScalingRow("cart,pole", 1000, 1e6, 2.5, 40), rows[0]);
        Assert.Null(rows[1].Score);
        Assert.Equal(6 * 2000 * 1e6, rows[1].Flops);
    }

    [Theory]
    [InlineData("task,params,loss\nx,1,2\n", "line 1: missing column 'tokens'")]
    [InlineData("task,params,tokens,loss\nx,abc,1,2\n", "line 2, column 2 'params': 'abc' is not a finite number")]
    [InlineData("task,params,tokens,loss\nx,10,1,2\ny,-5,1,2\n", "line 3, column 2 'params': -5 must be > 0")]
    [InlineData("task,params,tokens,loss\nx,10,1\n", "line 2: 3 fields but the header has 4")]
    [InlineData("task,params,tokens,loss\n,10,1,2\n", "line 2, column 1 'task': must not be empty")]
    [InlineData("task,params,tokens,loss,score\nx,10,1,2,nan\n", "line 2, column 5 'score': 'nan' is not a finite number")]
    [InlineData("task,params,tokens,loss\n", "no data rows")]
    [InlineData("", "empty file")]
    [InlineData("task,params,tokens,loss\n\"x,10,1,2\n", "line 2: unterminated quoted field")]
    public void ErrorsNameTheLineAndColumn(string text, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => ScalingResultsCsv.Parse(text, "r.csv"));
        Assert.StartsWith("r.csv: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void FormatRoundTrips()
    {
        List<ScalingRow> rows = [new("a", 1e5, 2e6, 3.25, null), new("b,c", 3e5, 2e6, 2.5, 61.5)];
        Assert.Equal(rows, ScalingResultsCsv.Parse(ScalingResultsCsv.Format(rows), "x"));
    }
}
