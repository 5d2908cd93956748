using System.Runtime.InteropServices;

namespace Cleanroom.Daemon.Hosting;

/// <summary>
/// Entry point of <c>cleanroom-daemon</c>, which <c>cleanroom serve</c> starts with every option already resolved:
/// see <see cref="DaemonArguments.Usage"/>. SIGINT and SIGTERM stop it
/// gracefully (sandboxes are stopped and recorded); another signal, a second or more after the first, ends it at once
/// (see <see cref="StopSignals"/>).
/// </summary>
internal static class DaemonProgram
{
    public static async Task<int> Main(string[] args)
    {
        if (!TryParse(args, out var options, out var error))
        {
            await Console.Error.WriteLineAsync($"cleanroom-daemon: {error}\n{DaemonArguments.Usage}");
            return 2;
        }

        using var stop = new CancellationTokenSource();
        var signals = new StopSignals(TimeProvider.System);
        void OnSignal(PosixSignalContext context)
        {
            // Cancel = false lets the signal's default action end the process at once.
            context.Cancel = !signals.Receive();
            stop.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            return await DaemonHost.RunAsync(options!, stop.Token);
        }
        catch (DaemonException ex)
        {
            await Console.Error.WriteLineAsync($"cleanroom-daemon: {ex.Reason.ToSnakeCase()}: {ex.Message}");
            return 1;
        }
    }

    internal static bool TryParse(string[] args, out DaemonOptions? options, out string error) => DaemonArguments.TryParse(args, out options, out error);
}
