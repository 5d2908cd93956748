using Cleanroom.Guest.Wire;
using Cleanroom.GuestAgent.Native;
using Cleanroom.GuestAgent.Processes;

namespace Cleanroom.GuestAgent.Exec;

/// <summary>Three pipes: stdin, stdout and stderr stay separate. Our ends are non-blocking (pumps poll them).</summary>
internal sealed class PipeIo : ProcessIo
{
    private const int OutputPipeBytes = 1024 * 1024;
    private int _stdinRead = -1;
    private int _stdinWrite = -1;
    private int _stdoutRead = -1;
    private int _stdoutWrite = -1;
    private int _stderrRead = -1;
    private int _stderrWrite = -1;

    private PipeIo()
    {
    }

    public override ChildStdio ChildStdio => new PipeStdio(_stdinRead, _stdoutWrite, _stderrWrite);

    public override bool IsTerminal => false;

    public static PipeIo Create()
    {
        var io = new PipeIo();
        try
        {
            (io._stdinRead, io._stdinWrite) = FileDescriptors.CreatePipe();
            (io._stdoutRead, io._stdoutWrite) = FileDescriptors.CreatePipe();
            (io._stderrRead, io._stderrWrite) = FileDescriptors.CreatePipe();
            FileDescriptors.SetNonBlocking(io._stdinWrite);
            FileDescriptors.TryGrowPipe(io._stdoutRead, OutputPipeBytes);
            FileDescriptors.TryGrowPipe(io._stderrRead, OutputPipeBytes);
            FileDescriptors.SetNonBlocking(io._stdoutRead);
            FileDescriptors.SetNonBlocking(io._stderrRead);
            return io;
        }
        catch
        {
            io.Dispose();
            throw;
        }
    }

    public override void CloseChildEnds()
    {
        Close(ref _stdinRead);
        Close(ref _stdoutWrite);
        Close(ref _stderrWrite);
    }

    public override IReadOnlyList<(int Fd, OutputStreamKind Kind)> TakeOutputs() =>
        [(Take(ref _stdoutRead), OutputStreamKind.Stdout), (Take(ref _stderrRead), OutputStreamKind.Stderr)];

    public override int TakeInput() => Take(ref _stdinWrite);

    protected override void Dispose(bool disposing)
    {
        CloseChildEnds();
        Close(ref _stdinWrite);
        Close(ref _stdoutRead);
        Close(ref _stderrRead);
    }

    private static int Take(ref int fd) => Interlocked.Exchange(ref fd, -1);

    private static void Close(ref int fd) => FileDescriptors.CloseQuietly(Take(ref fd));
}
