
using Generalist.Episodes;

namespace Generalist.Envs;

/// <summary>
/// DART-style noise injection for collecting expert data (Laskey et al. 2017, "DART: Noise
/// Injection for Robust Imitation Learning"): at each step, with probability
/// <see cref="Probability"/>, the action executed is a perturbation of the expert's instead of the
/// expert's own. The episode then visits states slightly off the expert's path, and the expert,
/// acting from the real state, shows how to recover from them; a model trained only on clean
/// expert data never sees those states and compounds its own small errors.
/// A perturbation is, for a discrete action, a uniformly random <em>other</em> choice; for
/// continuous actions, the expert's action plus independent Gaussian noise of standard deviation
/// <see cref="ContinuousStd"/> per dimension (in the [-1, 1] action units of <see cref="ActionSpace"/>),
/// clipped to [-1, 1] (a perturbation that clipping returns to the expert's own action, as happens
/// when the expert saturates its torque, counts as none). The recorded timestep holds the action really executed (so the history is
/// consistent with the next observation) and <see cref="Timestep.ActionScored"/> = false, so its
/// action tokens carry no loss: every action the model is trained to predict is the expert's.
/// </summary>
/// <param name="Probability">Per-step probability of a perturbation, in [0, 1). 0 collects the plain expert episodes.</param>
/// <param name="ContinuousStd">Standard deviation of the Gaussian added to continuous actions, in (0, 2].</param>
public sealed record ActionNoise(double Probability, double ContinuousStd = ActionNoise.DefaultContinuousStd)
{
    /// <summary>
    /// 0.3 of the action range's half-width: 0.6 N m on the pendulum's 2 N m motor, 0.06 N m on the
    /// reacher's joints. Large enough to push the state visibly off the expert's path in one step,
    /// small enough that the experts recover (envs/README.md lists the returns under noise).
    /// </summary>
    public const double DefaultContinuousStd = 0.3;

    /// <summary>No perturbations: the expert's own episodes.</summary>
    public static ActionNoise None { get; } = new(0);

    public bool IsNone => Probability == 0;

    /// <summary>Throws ArgumentException naming the field and its range.</summary>
    public void Validate()
    {
        if (!(Probability >= 0 && Probability < 1))
            throw new ArgumentException($"action noise probability must be in [0, 1) (got {Probability})");
        if (!(ContinuousStd > 0 && ContinuousStd <= 2))
            throw new ArgumentException($"action noise continuous std must be in (0, 2] (got {ContinuousStd})");
    }

    /// <summary>
    /// The action to execute instead of <paramref name="expert"/>: another discrete choice drawn
    /// uniformly, or the continuous action plus clipped Gaussian noise. A discrete space with a
    /// single choice has no other action; it returns null (nothing to perturb).
    /// </summary>
    public ActionValue? Perturb(ActionValue expert, ActionSpace space, EnvRandom random)
    {
        ArgumentNullException.ThrowIfNull(expert);
        if (space.IsDiscrete)
        {
            if (space.Choices < 2) return null;
            var chosen = expert.Discrete![0];
            var other = random.Next(space.Choices - 1);
            return ActionValue.OfDiscrete(other >= chosen ? other + 1 : other);
        }
        var values = (float[])expert.Continuous!.Clone();
        for (var i = 0; i < values.Length; i++)
            values[i] = (float)Math.Clamp(values[i] + ContinuousStd * random.Gaussian(), -1.0, 1.0);
        return ActionValue.OfContinuous(values);
    }

    /// <summary>
    /// The noise stream of one episode: derived from the episode seed alone, apart from the
    /// environment's and the policies' streams, so the same seed gives the same perturbations.
    /// </summary>
    internal static EnvRandom StreamFor(long episodeSeed) => new(EnvRandom.Derive(episodeSeed, StreamIndex));

    private const long StreamIndex = 0x4E4F495345; // "NOISE"
}
