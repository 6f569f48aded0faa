using System.CommandLine;

namespace Generalist.Cli.Commands;

/// <summary>
/// `generalist completion bash|zsh`: a shell script that asks `generalist` itself for completions
/// through System.CommandLine's [suggest] directive, so commands, options and their values
/// complete from the same definitions `--help` prints. Install: `source <(generalist completion bash)`.
/// </summary>
public static class CompletionCommand
{
    private const string Bash = """
        # generalist completion for bash: source <(generalist completion bash)
        _generalist_complete() {
          local IFS=$'\n' line="${COMP_LINE:0:COMP_POINT}"
          local cur="${line##* }" i
          COMPREPLY=( $(compgen -W "$(generalist "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null)" -- "$cur") )
          # bash splits words at ':' (COMP_WORDBREAKS), as in --tasks cartpole:2,text: give back
          # only what follows the last colon, as bash-completion's __ltrim_colon_completions does.
          if [[ "$cur" == *:* && "$COMP_WORDBREAKS" == *:* ]]; then
            local colon="${cur%"${cur##*:}"}"
            for i in "${!COMPREPLY[@]}"; do COMPREPLY[$i]="${COMPREPLY[$i]#"$colon"}"; done
          fi
        }
        complete -o default -F _generalist_complete generalist
        """;

    private const string Zsh = """
        # generalist completion for zsh: source <(generalist completion zsh)
        _generalist_complete() {
          local -a items
          items=("${(@f)$(generalist "[suggest:${#BUFFER}]" "${BUFFER}" 2>/dev/null)}")
          compadd -a items
        }
        compdef _generalist_complete generalist
        """;

    public static Command Create()
    {
        var shell = new Argument<string>("shell") { Description = "bash or zsh." };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var command = new Command("completion", "Print a shell completion script: `source <(generalist completion bash)` (or zsh) in your shell's startup file.") { shell };
        command.SetAction(parse =>
        {
            Console.Out.WriteLine(parse.GetValue(shell) == "zsh" ? Zsh : Bash);
            return ExitCodes.Ok;
        });
        return command;
    }
}
