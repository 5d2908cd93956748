using Cleanroom.Cli;

using var context = CliContext.FromProcess();
using var signals = ProcessSignals.Forward(context.Interrupts, context.Complain);
return await CliApp.RunAsync(args, context);
