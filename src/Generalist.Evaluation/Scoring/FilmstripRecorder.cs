using Generalist.Envs;
using Generalist.Episodes;

namespace Generalist.Evaluation.Scoring;

/// <summary>One frame of a filmstrip: what the agent saw and the action it then took (discrete: the choice's name from the environment's action space).</summary>
public sealed record FilmstripFrame(ImageData Image, string Action);

/// <summary>
/// Keeps the image observations of the first episode of a model rollout (up to
/// <see cref="MaxFrames"/>), so a report can show what the agent did, frame by frame.
/// Forwards every call to an inner observer (the diagnostics), so both see the same rollout.
/// </summary>
public sealed class FilmstripRecorder(IRolloutObserver? inner, int maxFrames = FilmstripRecorder.DefaultMaxFrames) : IRolloutObserver
{
    public const int DefaultMaxFrames = 24;
    private readonly List<FilmstripFrame> _frames = [];

    public int MaxFrames { get; } = maxFrames;
    public IReadOnlyList<FilmstripFrame> Frames => _frames;

    public void BeginEpisode(int episode)
    {
        if (episode == 0) _frames.Clear();
        inner?.BeginEpisode(episode);
    }

    public void Observe(int episode, Observation observation, IEnvironment env, ActionValue action)
    {
        if (episode == 0 && observation.Image is { } image && _frames.Count < MaxFrames)
            _frames.Add(new FilmstripFrame(image, action.Discrete is { } d
                ? string.Join(",", d.Select(c => env.Spec.Action.Names[c]))
                : string.Join(",", action.Continuous!.Select(v => v.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)))));
        inner?.Observe(episode, observation, env, action);
    }
}
