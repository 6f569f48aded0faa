using System.Diagnostics;
using System.Globalization;
using Generalist.RunFormat;

namespace Generalist.Training.Loop;

/// <summary>
/// A test hook for crash tests of real processes, OFF unless both environment variables are set:
/// <c>GENERALIST_TEST_PAUSE_CHECKPOINT=PHASE@STEP</c> and <c>GENERALIST_TEST_PAUSE_MARKER=FILE</c>.
/// When the checkpoint of STEP reaches PHASE (one of <see cref="FaultInjection.CheckpointPhases"/>),
/// the writing thread writes FILE (pid, phase, step) and then blocks until FILE.release exists (at
/// most <see cref="MaxPause"/>). A test waits for FILE and kills the process with SIGKILL, so the kill
/// lands at an exact point inside the write instead of wherever a timer happens to fall.
/// </summary>
public static class CheckpointPauseHook
{
    public const string PhaseVariable = "GENERALIST_TEST_PAUSE_CHECKPOINT";
    public const string MarkerVariable = "GENERALIST_TEST_PAUSE_MARKER";
    public const string ReleaseSuffix = ".release";
    /// <summary>Bounded, so a forgotten hook cannot hang a process for ever.</summary>
    public static readonly TimeSpan MaxPause = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The faults the environment asks for: <see cref="FaultInjection.None"/> when the variables are
    /// unset; a <see cref="ConfigException"/> naming the variable when they are malformed.
    /// </summary>
    public static FaultInjection FromEnvironment() =>
        Parse(Environment.GetEnvironmentVariable(PhaseVariable), Environment.GetEnvironmentVariable(MarkerVariable));

    public static FaultInjection Parse(string? phaseAtStep, string? marker)
    {
        if (string.IsNullOrEmpty(phaseAtStep) && string.IsNullOrEmpty(marker)) return FaultInjection.None;
        if (string.IsNullOrEmpty(phaseAtStep) || string.IsNullOrEmpty(marker))
            throw new ConfigException(PhaseVariable, $"{PhaseVariable} and {MarkerVariable} must be set together (got only {(string.IsNullOrEmpty(marker) ? PhaseVariable : MarkerVariable)})");
        var at = phaseAtStep.LastIndexOf('@');
        var phase = at > 0 ? phaseAtStep[..at] : "";
        if (!FaultInjection.CheckpointPhases.Contains(phase)
            || !long.TryParse(phaseAtStep.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var step))
            throw new ConfigException(PhaseVariable, $"{PhaseVariable} must be PHASE@STEP with PHASE one of {string.Join(", ", FaultInjection.CheckpointPhases)} and STEP >= 0 (got '{phaseAtStep}')");
        var markerPath = Path.GetFullPath(marker);
        return new FaultInjection
        {
            CheckpointPhase = (s, p) =>
            {
                if (s == step && p == phase) Pause(markerPath, phase, step);
            },
        };
    }

    private static void Pause(string marker, string phase, long step)
    {
        var temp = marker + ".tmp";
        File.WriteAllText(temp, $"pid={Environment.ProcessId} phase={phase} step={step}\n");
        File.Move(temp, marker, overwrite: true); // the test never sees a half-written marker
        var waited = Stopwatch.StartNew();
        while (!File.Exists(marker + ReleaseSuffix) && waited.Elapsed < MaxPause) Thread.Sleep(20);
    }
}
