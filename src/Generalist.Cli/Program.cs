using System.CommandLine;
using Generalist.Cli;
using Generalist.Cli.Commands;

// Each command lives in its own file under Commands/ and is registered here, in the order
// `generalist --help` lists them.
var root = new RootCommand("Generalist: one transformer trained on many tasks, run as a service.")
{
    DoctorCommand.Create(),
    BenchCommand.Create(),
    TokenizeCommand.Create(),
    EnvsCommand.Create(),
    ModelsCommand.Create(),
    DataCommand.Create(),
    EvalCommand.Create(),
    StudyCommand.Create(),
    DistributedCommand.Create(),
    TrainCommand.Create(),
    ExportBatchCommand.Create(),
    ConfigCommand.Create(),
    ServeCommand.Create(),
    RunsCommand.Create(),
    CheckpointsCommand.Create(),
    DemoCommand.Create(),
    CompletionCommand.Create(),
};
OptionCompletions.Attach(root);
return await CliApp.InvokeAsync(root, args);
