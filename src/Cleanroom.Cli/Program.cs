using Cleanroom.Cli;

using var context = CliContext.FromProcess();
using var signals = ProcessSignals.Forward(context.Interrupts);
return await CliApp.RunAsync(args, context);
