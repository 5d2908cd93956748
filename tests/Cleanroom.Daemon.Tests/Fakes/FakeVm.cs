using System.Net.Sockets;
using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Guest;
using Cleanroom.Vm;

namespace Cleanroom.Daemon.Tests.Fakes;

/// <summary>
/// A VM without a VMM: its agent channel is a connected unix socket pair whose guest end is served by the real
/// <see cref="AgentServer"/> (or handed to the test raw). It keeps the <see cref="IVm"/> contract: <see cref="Exited"/>
/// completes when it is stopped, disposed, powered off by a Shutdown frame, or crashed by the test; disposing it
/// removes what it created in the work directory. Tests read <see cref="IsDisposed"/> and <see cref="StopCalls"/> to
/// prove the daemon released it.
/// </summary>
internal sealed class FakeVm : IVm
{
    /// <summary>The exit code of a VMM killed by the daemon (SIGKILL).</summary>
    public const int KilledExitCode = 137;

    private static int s_nextPid = 50_000;
    private readonly VmSpec _spec;
    private readonly GuestMode _mode;
    private readonly ScriptedGuest _programs;
    private readonly Func<BootHold?> _helloHold;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Stream> _rawGuest = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _guestStop = new();
    private readonly Lock _gate = new();
    private NetworkStream? _guestEnd;
    private Task _guest = Task.CompletedTask;
    private int _connections;
    private int _stopCalls;
    private int _disposeCalls;

    public FakeVm(VmSpec spec, GuestMode mode, ScriptedGuest programs, Func<BootHold?> helloHold)
    {
        _spec = spec;
        _mode = mode;
        _programs = programs;
        _helloHold = helloHold;
        Pid = Interlocked.Increment(ref s_nextPid);
        File.WriteAllText(ConsoleLogPath, "fake VM " + spec.Id + " booting\n");
    }

    public string Id => _spec.Id;

    public int Pid { get; }

    public string WorkDir => _spec.WorkDir;

    public string ConsoleLogPath => Path.Combine(WorkDir, "console.log");

    public Task<int> Exited => _exited.Task;

    /// <summary>Completes once the daemon disposed the VM.</summary>
    public Task Disposed => _disposed.Task;

    public bool IsDisposed => _disposed.Task.IsCompleted;

    public int StopCalls => Volatile.Read(ref _stopCalls);

    /// <summary>What <see cref="DescribeCpusAsync"/> says (a real VMM's account of its vCPUs); null: it cannot say.</summary>
    public string? CpuDescription { get; set; }

    public Task<string?> DescribeCpusAsync(CancellationToken ct) => Task.FromResult(CpuDescription);

    /// <summary>In <see cref="GuestMode.Raw"/>: the guest end of the agent channel, once the daemon connected.</summary>
    public Task<Stream> RawGuest => _rawGuest.Task;

    public async Task<Stream> ConnectAgentAsync(CancellationToken ct)
    {
        if (Interlocked.Increment(ref _connections) > 1)
        {
            throw new InvalidOperationException("the fake VM serves one agent connection");
        }

        var (host, guest) = await UnixSocketPair.CreateAsync(ct);
        lock (_gate)
        {
            if (_exited.Task.IsCompleted)
            {
                host.Dispose();
                guest.Dispose();
                throw new VmException("the VM exited before the agent connection was made");
            }

            _guestEnd = guest;
            if (_mode == GuestMode.Raw)
            {
                _rawGuest.TrySetResult(guest);
            }
            else
            {
                _guest = Task.Run(() => ServeAsync(guest), CancellationToken.None);
            }
        }

        return host;
    }

    /// <summary>The VMM dies on its own (a crash, the OOM killer): the console gets <paramref name="console"/>.</summary>
    public void Crash(int exitCode, string console = "")
    {
        if (console.Length > 0)
        {
            File.AppendAllText(ConsoleLogPath, console);
        }

        End(exitCode);
    }

    public async Task StopAsync(TimeSpan grace, CancellationToken ct)
    {
        Interlocked.Increment(ref _stopCalls);
        End(0);
        await _guest;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Increment(ref _disposeCalls) > 1)
        {
            return;
        }

        End(KilledExitCode);
        await _guest;
        _guestStop.Dispose();
        if (File.Exists(ConsoleLogPath))
        {
            File.Delete(ConsoleLogPath);
        }

        _disposed.TrySetResult();
    }

    private async Task ServeAsync(Stream guest)
    {
        try
        {
            if (_helloHold() is { } hold)
            {
                await hold.WaitAsync(_guestStop.Token);
            }

            var end = await new AgentServer(guest, _programs, WireLimits.Default, "fake-agent").RunAsync(_guestStop.Token);
            if (end == SessionEnd.ShutdownRequested)
            {
                // The real agent syncs and powers off: the VMM exits cleanly.
                End(0);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WireProtocolException or IOException or ObjectDisposedException)
        {
            // The VM was stopped under the guest.
        }
    }

    /// <summary>The VMM is gone: Exited first (as QEMU's exit is seen first), then the channel closes.</summary>
    private void End(int exitCode)
    {
        NetworkStream? guestEnd;
        lock (_gate)
        {
            if (!_exited.TrySetResult(exitCode))
            {
                return;
            }

            guestEnd = _guestEnd;
        }

        _guestStop.Cancel();
        guestEnd?.Dispose();
        _rawGuest.TrySetCanceled();
    }
}
