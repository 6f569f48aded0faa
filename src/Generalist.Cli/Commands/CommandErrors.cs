
namespace Generalist.Cli.Commands;

/// <summary>
/// Maps input errors raised inside a command's action to one line on stderr and exit code 2.
/// System.CommandLine's invocation pipeline catches exceptions itself (printing a stack trace and
/// returning 1) before <see cref="CliApp.InvokeAsync"/> sees them, so commands guard their own body.
/// </summary>
public static class CommandErrors
{
    public static int Guard(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (IsInputError(e))
        {
            return Report(e);
        }
    }

    public static async Task<int> GuardAsync(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (IsInputError(e))
        {
            return Report(e);
        }
    }

    private static bool IsInputError(Exception e) => CliApp.IsInputError(e);

    private static int Report(Exception e)
    {
        Console.Error.WriteLine($"error: {CliApp.OneLine(e.Message)}");
        return ExitCodes.InvalidInput;
    }
}
