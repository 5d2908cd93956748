using System.Diagnostics;
using System.Globalization;

namespace Cleanroom.ControlApi.Bench;

/// <summary>The bench's daemon as a child process (this executable again), so client and server do not share a runtime.</summary>
internal sealed class DaemonProcess : IAsyncDisposable
{
    private readonly Process _process;

    private DaemonProcess(Process process, BenchDaemon.Ready ready)
    {
        _process = process;
        Ready = ready;
    }

    public BenchDaemon.Ready Ready { get; }

    public static async Task<DaemonProcess> StartAsync(string root, long streamBytes)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(DaemonProcess).Assembly.Location);
        }

        start.ArgumentList.Add(BenchDaemon.ServeFlag);
        start.ArgumentList.Add(root);
        start.ArgumentList.Add(streamBytes.ToString(CultureInfo.InvariantCulture));
        var process = Process.Start(start)!;
        var line = await process.StandardOutput.ReadLineAsync()
            ?? throw new InvalidOperationException("the daemon process exited before it served");
        return new DaemonProcess(process, BenchDaemon.Parse(line));
    }

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
