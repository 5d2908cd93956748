using Cleanroom.Guest.Wire.Guest;
using Cleanroom.Guest.Wire.Messages;
using Cleanroom.GuestAgent.Native;
using Cleanroom.GuestAgent.Processes;

namespace Cleanroom.GuestAgent.Exec;

/// <summary>
/// The agent's <see cref="IExecHandler"/>: plan the request, set up pipes or a terminal, posix_spawn the child
/// through the reaper, then supervise it. Works the same as PID 1 in the guest and as a normal process on a host.
/// </summary>
internal sealed class ExecHandler : IExecHandler
{
    private readonly ExecOptions _options;
    private readonly IGuestFileSystem _fileSystem;
    private readonly ChildReaper _reaper;

    public ExecHandler(ExecOptions options, IGuestFileSystem fileSystem, ChildReaper reaper)
    {
        _options = options;
        _fileSystem = fileSystem;
        _reaper = reaper;
    }

    public ExecHandler()
        : this(ExecOptions.Default, GuestFileSystem.Instance, ChildReaper.Shared)
    {
    }

    public async Task<ExitMessage> RunAsync(ExecRequest request, ExecSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(session);
        if (!ExecPlanner.TryPlan(request, _fileSystem, _options.SelfExecutable, out var plan, out var failure))
        {
            return failure;
        }

        // Everything that can fail is set up before the child exists, so a failure never leaves it unsupervised.
        using ProcessIo io = request.Tty ? PtyIo.Open(request.Cols, request.Rows) : PipeIo.Create();
        using var lifetime = new ExecLifetime();
        int pid;
        Task<ProcessExit> exited;
        try
        {
            (pid, exited) = ProcessSpawner.Start(plan.ToSpawnSpec(io.ChildStdio, newSession: request.Tty, _options.SelfExecutable), _reaper);
        }
        catch (SpawnException ex)
        {
            return new ExitMessage(ex.Errno == Errno.ENOENT ? 127 : 126, 0, ex.Message);
        }
        finally
        {
            io.CloseChildEnds();
        }

        return await ProcessSupervisor.SuperviseAsync(pid, exited, io, lifetime, session, _options, cancellationToken);
    }
}
