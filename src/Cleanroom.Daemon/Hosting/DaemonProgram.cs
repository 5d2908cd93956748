using System.Runtime.InteropServices;

namespace Cleanroom.Daemon.Hosting;

/// <summary>
/// Entry point of <c>cleanroom-daemon</c>, which <c>cleanroom serve</c> starts with every option already resolved:
/// <c>--listen SOCKET --state-dir DIR [--assets DIR] [--accel auto|kvm|tcg] [--images DIR] [--insecure-registry HOST[:PORT]]...</c>. SIGINT and SIGTERM stop it
/// gracefully (sandboxes are stopped and recorded); a second signal ends it at once.
/// </summary>
internal static class DaemonProgram
{
    public static async Task<int> Main(string[] args)
    {
        if (!TryParse(args, out var options, out var error))
        {
            await Console.Error.WriteLineAsync($"cleanroom-daemon: {error}\nusage: cleanroom-daemon --listen SOCKET --state-dir DIR [--assets DIR] [--accel auto|kvm|tcg] [--images DIR] [--insecure-registry HOST[:PORT]]...");
            return 2;
        }

        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = !stop.IsCancellationRequested;
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

    internal static bool TryParse(string[] args, out DaemonOptions? options, out string error)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var insecure = new List<string>();
        options = null;
        for (var i = 0; i < args.Length; i += 2)
        {
            if (args[i] is not ("--listen" or "--state-dir" or "--assets" or "--accel" or "--images" or "--insecure-registry") || i + 1 >= args.Length)
            {
                error = $"unexpected argument '{args[i]}'";
                return false;
            }

            if (args[i] == "--insecure-registry")
            {
                insecure.Add(args[i + 1]);
            }

            values[args[i]] = args[i + 1];
        }

        if (!values.TryGetValue("--listen", out var listen) || !values.TryGetValue("--state-dir", out var stateDir))
        {
            error = "--listen and --state-dir are required";
            return false;
        }

        options = new DaemonOptions
        {
            SocketPath = listen,
            StateDir = stateDir,
            AssetsDir = values.GetValueOrDefault("--assets"),
            Accel = values.GetValueOrDefault("--accel", "auto"),
            ImagesDir = values.GetValueOrDefault("--images"),
            InsecureRegistries = insecure,
        };
        error = "";
        return true;
    }
}
