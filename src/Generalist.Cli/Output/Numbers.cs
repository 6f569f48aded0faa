using System.Globalization;

namespace Generalist.Cli.Output;

/// <summary>
/// One printed format per kind of number, everywhere the CLI prints one: learning rates in
/// scientific notation (they span decades: 1.00e-03 ... 5.00e-05), losses with four decimals, rates
/// as whole numbers. Non-finite values print as "-" (JSON output writes them as null).
/// </summary>
public static class Numbers
{
    public static string LearningRate(double x) => Finite(x) ? x.ToString("0.00e+00", CultureInfo.InvariantCulture) : "-";

    public static string Loss(double x) => Finite(x) ? x.ToString("0.0000", CultureInfo.InvariantCulture) : "-";

    public static string GradNorm(double x) => Finite(x) ? x.ToString("0.000", CultureInfo.InvariantCulture) : "-";

    public static string PerSecond(double x) => Finite(x) ? x.ToString("0", CultureInfo.InvariantCulture) : "-";

    public static string Percent(double fraction) => Finite(fraction) ? (fraction * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "-";

    private static bool Finite(double x) => double.IsFinite(x);
}
