namespace Generalist.Studies.Transfer;

/// <summary>
/// How much better the generalist is than the specialist on one task and metric.
/// Advantage is a plain difference in the metric's units, oriented so that positive means the
/// generalist is better (generalist − specialist for a score, specialist − generalist for a loss);
/// it is always defined. Ratio is the relative transfer, or null with <see cref="Note"/> saying why
/// it is undefined.
/// </summary>
public sealed record TransferValue(double Advantage, double? Ratio, string? Note);

/// <summary>
/// Transfer = generalist / specialist − 1 (Gato, section 5.2), made safe for the values small runs
/// produce. A ratio only means something when its denominator is a clearly positive quantity:
/// - Normalized scores are 0 for the random policy and may be negative (worse than random), so a
///   specialist near or below 0 gives ratios that are huge, sign-flipped or infinite. The ratio is
///   reported only when the specialist scores at least <see cref="MinSpecialistScore"/> points
///   (10% of the way from random to expert); otherwise it is undefined and the difference in
///   points is the measure.
/// - Losses (nats per token) are positive; lower is better, so the ratio is inverted to
///   specialist / generalist − 1 (positive = generalist better). It is undefined only when a loss is
///   not above <see cref="MinLoss"/> (a perfect fit, where "relative" has no meaning).
/// </summary>
public static class TransferMeasure
{
    public const double MinSpecialistScore = 10.0;
    public const double MinLoss = 1e-6;

    public static TransferValue Compute(double generalist, double specialist, bool higherIsBetter)
    {
        if (!double.IsFinite(generalist) || !double.IsFinite(specialist))
            throw new ArgumentException($"transfer needs finite values (generalist {generalist}, specialist {specialist})");
        if (higherIsBetter)
        {
            var advantage = generalist - specialist;
            return specialist >= MinSpecialistScore
                ? new TransferValue(advantage, generalist / specialist - 1, null)
                : new TransferValue(advantage, null, $"specialist score {specialist:0.#} < {MinSpecialistScore:0}: too close to random for a ratio");
        }
        var lossAdvantage = specialist - generalist;
        return generalist > MinLoss && specialist > MinLoss
            ? new TransferValue(lossAdvantage, specialist / generalist - 1, null)
            : new TransferValue(lossAdvantage, null, $"a loss is at most {MinLoss:G1}: no relative measure");
    }
}
