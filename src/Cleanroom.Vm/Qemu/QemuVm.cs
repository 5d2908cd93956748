using System.Net.Sockets;
using System.Text.Json;
using Cleanroom.HostProcesses;
using Cleanroom.Vm.Qemu.Confinement;
using Cleanroom.Vm.Qemu.Qmp;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Vm.Qemu;

/// <summary>
/// One QEMU microVM. Owns the QEMU process, its QMP connection and the files in its work directory; disposing it
/// stops QEMU (QMP quit → SIGTERM → SIGKILL) and deletes those files.
/// </summary>
internal sealed class QemuVm : IVm
{
    private const int TailBytes = 16 * 1024;
    private static readonly TimeSpan KillTimeout = TimeSpan.FromSeconds(10);

    private readonly IQemuProcess _process;
    private readonly ConfinedVm _confinement;
    private readonly QmpClient _qmp;
    private readonly VmSpec _spec;
    private readonly VmWorkDir _dir;
    private readonly bool _createdWorkDir;
    private readonly QemuBackendOptions _options;
    private readonly ILogger _logger;
    private readonly Stream _console;
    private readonly SemaphoreSlim _stopLock = new(1, 1);
    private int _disposed;

    private QemuVm(IQemuProcess process, Stream console, ConfinedVm confinement, QmpClient qmp, VmSpec spec, VmWorkDir dir, bool createdWorkDir, QemuBackendOptions options, ILogger logger)
    {
        _console = console;
        _process = process;
        _confinement = confinement;
        _qmp = qmp;
        _spec = spec;
        _dir = dir;
        _createdWorkDir = createdWorkDir;
        _options = options;
        _logger = logger;
    }

    public string Id => _spec.Id;

    public int Pid => _process.Pid;

    public string WorkDir => _dir.Path;

    public string ConsoleLogPath => _dir.ConsoleLog;

    public Task<int> Exited => _process.Exited;

    /// <summary>From the cgroup's own count (v2 <c>memory.events</c>, v1 <c>memory.oom_control</c>): "oom_kill N".</summary>
    public bool WasKilledForMemory => CgroupDirectories.Any(dir =>
        OomKills(Path.Combine(dir, "memory.events")) + OomKills(Path.Combine(dir, "memory.oom_control")) > 0);

    private static long OomKills(string path)
    {
        try
        {
            var line = File.Exists(path) ? File.ReadLines(path).FirstOrDefault(l => l.StartsWith("oom_kill ", StringComparison.Ordinal)) : null;
            return line is not null && long.TryParse(line.AsSpan(9), System.Globalization.CultureInfo.InvariantCulture, out var count) ? count : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>The uid QEMU runs as; null when the daemon is not root and QEMU keeps the daemon's user.</summary>
    internal int? Uid => _confinement.Uid;

    /// <summary>QEMU's uid and gid; null when it keeps the daemon's user.</summary>
    internal (int Uid, int Gid)? User => _confinement.Plan.User;

    /// <summary>The VM's QMP connection (the only one QEMU serves).</summary>
    internal QmpClient Qmp => _qmp;

    /// <summary>The VM's cgroup directories; empty when the host has no usable cgroup controllers.</summary>
    internal IReadOnlyList<string> CgroupDirectories => _confinement.Cgroup?.Directories ?? [];

    /// <summary>
    /// Starts QEMU and returns once its QMP socket answers a status query. If QEMU exits or fails
    /// to come up, throws <see cref="VmException"/> with its exit code, stderr tail and console tail; the process
    /// is gone by then, and the caller removes the files and releases <paramref name="confinement"/>; on success the
    /// VM owns it.
    /// </summary>
    public static async Task<QemuVm> LaunchAsync(
        ProcessLaunch launch,
        ConfinedVm confinement,
        VmSpec spec,
        VmWorkDir dir,
        bool createdWorkDir,
        QemuBackendOptions options,
        ILogger logger,
        CancellationToken ct)
    {
        var console = new StreamCapture(TailBytes, dir.ConsoleLog, options.ConsoleLogLimitBytes);
        StreamCapture? stderr = null;
        QemuProcess process;
        try
        {
            stderr = new StreamCapture(TailBytes, dir.QemuStderr, options.StderrLogLimitBytes);
            process = QemuProcess.Start(launch, console, stderr, consoleOnStdout: false);
        }
        catch
        {
            await console.DisposeAsync();
            if (stderr is not null)
            {
                await stderr.DisposeAsync();
            }

            throw;
        }

        try
        {
            // QEMU waits for the console's host before it starts the guest (wait=on), and only then serves QMP.
            var consoleStream = await ConnectConsoleAsync(process, dir, options, ct);
            var qmp = await OpenQmpAsync(process, spec, dir, options, logger, ct);
            return new QemuVm(process, consoleStream, confinement, qmp, spec, dir, createdWorkDir, options, logger);
        }
        catch (Exception ex) when (ex is VmException or QmpException or IOException or SocketException or OperationCanceledException)
        {
            // A dropped QMP connection usually means QEMU is dying: let it finish, so the error shows its exit code.
            if (ex is not OperationCanceledException)
            {
                await process.WaitForExitAsync(TimeSpan.FromSeconds(1), CancellationToken.None);
            }

            var exitedByItself = process.Exited.IsCompleted;
            await process.DisposeAsync(); // Kills QEMU if it is still running and drains its output.
            if (ex is OperationCanceledException)
            {
                throw;
            }

            var how = exitedByItself
                ? $"QEMU exited during start with {ExitStatus.Describe(await process.Exited)}"
                : $"QEMU did not come up ({ex.Message}) and was killed";
            throw new VmException($"VM {spec.Id} failed to start: {how}.\n{process.DescribeOutput()}", ex);
        }
    }

    /// <summary>
    /// Takes over a QEMU an earlier daemon started (<paramref name="handle"/>, already checked to be this VM's): connects
    /// its console (continuing console.log) and its QMP socket, which QEMU serves again once the old daemon's
    /// connections are gone. Throws <see cref="VmException"/> when either does not answer; the process is left running
    /// for the caller to stop. On success the VM owns <paramref name="handle"/> and <paramref name="confinement"/>.
    /// </summary>
    public static async Task<QemuVm> AdoptAsync(
        ProcessHandle handle,
        ConfinedVm confinement,
        VmSpec spec,
        VmWorkDir dir,
        QemuBackendOptions options,
        ILogger logger,
        CancellationToken ct)
    {
        var process = new AdoptedQemuProcess(handle, new StreamCapture(TailBytes, dir.ConsoleLog, options.ConsoleLogLimitBytes, append: true));
        try
        {
            var consoleStream = await ConnectConsoleAsync(process, dir, options, ct);
            var qmp = await OpenQmpAsync(process, spec, dir, options, logger, ct);
            return new QemuVm(process, consoleStream, confinement, qmp, spec, dir, createdWorkDir: false, options, logger);
        }
        catch (Exception ex) when (ex is QmpException or IOException or SocketException)
        {
            throw new VmException($"VM {spec.Id} (pid {handle.Pid}) could not be taken over: {ex.Message}", ex);
        }
    }

    private static async Task<Stream> ConnectConsoleAsync(IQemuProcess process, VmWorkDir dir, QemuBackendOptions options, CancellationToken ct)
    {
        var socket = await UnixSocketConnector.ConnectAsync(dir.ConsoleSocket, process.Exited, options.StartTimeout, "QEMU's console socket", ct);
        var stream = new NetworkStream(socket, ownsSocket: true);
        process.Console.Start(stream);
        return stream;
    }

    private static async Task<QmpClient> OpenQmpAsync(IQemuProcess process, VmSpec spec, VmWorkDir dir, QemuBackendOptions options, ILogger logger, CancellationToken ct)
    {
        var socket = await UnixSocketConnector.ConnectAsync(dir.QmpSocket, process.Exited, options.StartTimeout, "QEMU's QMP socket", ct);
        var qmp = await QmpClient.OpenAsync(new NetworkStream(socket, ownsSocket: true), QmpClient.DefaultTimeout, ct);
        try
        {
            // Proves the control channel works. Any state counts as started: a guest that already powered
            // off ("shutdown") did boot, and Exited reports how it ended.
            var status = await qmp.QueryStatusAsync(ct);
            if (!status.Running && logger.IsEnabled(LogLevel.Debug))
            {
                logger.LogDebug("VM {Id} is '{Status}' right after start.", spec.Id, status.Status);
            }

            return qmp;
        }
        catch
        {
            await qmp.DisposeAsync();
            throw;
        }
    }

    public async Task<Stream> ConnectAgentAsync(CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        try
        {
            var socket = await UnixSocketConnector.ConnectAsync(_dir.AgentSocket, _process.Exited, _options.AgentConnectTimeout, "the guest agent socket", ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (VmException ex) when (_process.Exited.IsCompleted)
        {
            var code = await _process.Exited;
            throw new VmException($"VM {Id}: QEMU exited with {ExitStatus.Describe(code)} before the agent could be reached.\n{_process.DescribeOutput()}", ex);
        }
    }

    public async Task<string?> DescribeCpusAsync(CancellationToken ct)
    {
        if (_disposed != 0 || _process.Exited.IsCompleted)
        {
            return null;
        }

        try
        {
            // The monitor's text, not a QMP query: no QMP query says whether a vCPU is halted or where it runs.
            var registers = await _qmp.ExecuteAsync("human-monitor-command", QmpClient.Arguments(w => w.WriteString("command-line", "info registers -a")), ct);
            return registers.ValueKind == JsonValueKind.String ? VcpuStates.Summarize(registers.GetString()!) : null;
        }
        catch (Exception ex) when (ex is QmpException or IOException or ObjectDisposedException)
        {
            _logger.LogDebug(ex, "VM {Id}: QEMU did not say what its vCPUs are doing.", Id);
            return null;
        }
    }

    public async Task StopAsync(TimeSpan grace, CancellationToken ct)
    {
        if (_process.Exited.IsCompleted)
        {
            return; // Also makes a stop after DisposeAsync a no-op.
        }

        await _stopLock.WaitAsync(CancellationToken.None);
        try
        {
            if (_process.Exited.IsCompleted)
            {
                return;
            }

            try
            {
                if (await QuitAsync(grace, ct))
                {
                    return;
                }

                _logger.LogWarning("VM {Id}: QEMU (pid {Pid}) ignored QMP quit for {Grace}; sending SIGTERM.", Id, Pid, grace);
                _process.Signal(Posix.SigTerm);
                if (await _process.WaitForExitAsync(grace, ct))
                {
                    return;
                }

                _logger.LogWarning("VM {Id}: QEMU (pid {Pid}) ignored SIGTERM for {Grace}; sending SIGKILL.", Id, Pid, grace);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Stopping politely was cancelled, not stopping: fall through to SIGKILL.
            }

            _process.Kill();
            if (!await _process.WaitForExitAsync(KillTimeout, CancellationToken.None))
            {
                throw new VmException($"VM {Id}: QEMU (pid {Pid}) is still alive {KillTimeout.TotalSeconds:0} s after SIGKILL.");
            }
        }
        finally
        {
            _stopLock.Release();
        }
    }

    public async Task DetachAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // QEMU serves both sockets again once these connections are gone; nothing here touches the process.
        await _qmp.DisposeAsync();
        await _console.DisposeAsync();
        _stopLock.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await StopAsync(_options.DisposeGrace, CancellationToken.None);
        }
        catch (VmException ex)
        {
            _logger.LogError(ex, "VM {Id}: could not stop QEMU cleanly.", Id);
        }

        await _qmp.DisposeAsync();
        await _process.DisposeAsync();
        try
        {
            _dir.Clean(_spec.KeepLogs, removeDirectoryIfEmpty: _createdWorkDir);
        }
        catch (IOException ex)
        {
            _logger.LogError(ex, "VM {Id}: could not remove files in {WorkDir}.", Id, WorkDir);
        }

        // Last: the uid may only be handed out again once nothing of this VM (process, overlay) is left.
        if (!_confinement.Release())
        {
            _logger.LogWarning("VM {Id}: its cgroup {Cgroup} still has tasks and was left in place.", Id, string.Join(", ", CgroupDirectories));
        }

        _stopLock.Dispose();
    }

    /// <summary>Sends QMP quit and waits up to <paramref name="grace"/> for exit; true if QEMU is gone.</summary>
    private async Task<bool> QuitAsync(TimeSpan grace, CancellationToken ct)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
        budget.CancelAfter(grace);
        try
        {
            await _qmp.QuitAsync(budget.Token);
        }
        catch (Exception ex) when (ex is QmpException or IOException or ObjectDisposedException
            || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                _logger.LogDebug(ex, "VM {Id}: QMP quit failed.", Id);
            }
        }

        return await _process.WaitForExitAsync(grace, ct);
    }
}
