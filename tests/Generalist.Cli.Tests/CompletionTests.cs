using System.Diagnostics;
using Xunit;

namespace Generalist.Cli.Tests;

/// <summary>
/// `generalist completion bash` in a real bash: the script is sourced, bash's completion variables
/// are set as bash sets them for a typed line (words split at COMP_WORDBREAKS, ':' included), and
/// COMPREPLY is what the user would be offered.
/// </summary>
public sealed class CompletionTests
{
    [Theory]
    [InlineData("generalist tr", "train")]
    [InlineData("generalist train --pre", "--precision --preset")]
    [InlineData("generalist train --preset ti", "tiny")]
    [InlineData("generalist eval --suite con", "control")]
    [InlineData("generalist envs rollout --env ca", "cartpole catch")]
    [InlineData("generalist train --tasks cartpole:2,te", "2,text")] // bash shows "cartpole:2,text": the colon splits the word
    [InlineData("generalist train --tasks mn", "mnist")]
    public async Task Bash_offers_commands_options_and_values(string line, string expected)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "generalist.dll");
        var script = $$"""
            generalist() { dotnet '{{dll}}' "$@"; }
            source <(generalist completion bash)
            COMP_LINE='{{line}}'
            COMP_POINT=${#COMP_LINE}
            _generalist_complete
            echo "${COMPREPLY[*]}"
            """;
        var psi = new ProcessStartInfo("bash", ["-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["NO_COLOR"] = "1";
        using var bash = Process.Start(psi)!;
        var stdout = bash.StandardOutput.ReadToEndAsync();
        var stderr = bash.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await bash.WaitForExitAsync(timeout.Token);
        Assert.True(bash.ExitCode == 0, await stderr);
        Assert.Equal(expected, (await stdout).Trim());
    }
}
