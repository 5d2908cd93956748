using System.Text;
using Cleanroom.Guest.Wire;
using Cleanroom.GuestAgent.Native;
using Cleanroom.GuestAgent.Processes;

namespace Cleanroom.GuestAgent.Exec;

/// <summary>
/// A pseudo-terminal. The child opens the slave itself (so it becomes its controlling terminal); we keep only the
/// master, and give each pump its own duplicate so each can close independently (made up front, so nothing can fail
/// once the child runs). Output is the master's stream (stdout and stderr are merged by the terminal).
/// </summary>
internal sealed unsafe class PtyIo : ProcessIo
{
    private const ushort DefaultCols = 80;
    private const ushort DefaultRows = 24;
    private readonly string _slavePath;
    private int _master;
    private int _outputCopy = -1;
    private int _inputCopy = -1;

    private PtyIo(int master, string slavePath)
    {
        _master = master;
        _slavePath = slavePath;
    }

    public override ChildStdio ChildStdio => new TerminalStdio(_slavePath);

    public override bool IsTerminal => true;

    public static PtyIo Open(ushort cols, ushort rows)
    {
        var master = LibC.PosixOpenPt(LibC.O_RDWR | LibC.O_NOCTTY | LibC.O_CLOEXEC);
        if (master < 0)
        {
            throw new IOException("posix_openpt failed: " + Errno.DescribeLast());
        }

        PtyIo? io = null;
        try
        {
            if (LibC.GrantPt(master) != 0 || LibC.UnlockPt(master) != 0)
            {
                throw new IOException("grantpt/unlockpt failed: " + Errno.DescribeLast());
            }

            var name = stackalloc byte[128];
            var result = LibC.PtsNameR(master, name, 128);
            if (result != 0)
            {
                throw new IOException("ptsname_r failed: " + Errno.Describe(result));
            }

            FileDescriptors.SetNonBlocking(master);
            var nameBytes = new ReadOnlySpan<byte>(name, 128);
            io = new PtyIo(master, Encoding.UTF8.GetString(nameBytes[..nameBytes.IndexOf((byte)0)]));
            io._outputCopy = FileDescriptors.Duplicate(master);
            io._inputCopy = FileDescriptors.Duplicate(master);
            io.Resize(cols == 0 ? DefaultCols : cols, rows == 0 ? DefaultRows : rows);
            return io;
        }
        catch
        {
            if (io is null)
            {
                LibC.Close(master);
            }
            else
            {
                io.Dispose();
            }

            throw;
        }
    }

    public override void CloseChildEnds()
    {
        // The parent never opens the slave.
    }

    public override IReadOnlyList<(int Fd, OutputStreamKind Kind)> TakeOutputs() =>
        [(Interlocked.Exchange(ref _outputCopy, -1), OutputStreamKind.Stdout)];

    public override int TakeInput() => Interlocked.Exchange(ref _inputCopy, -1);

    public override void Resize(ushort cols, ushort rows)
    {
        var size = new LibC.WinSize { Cols = cols, Rows = rows };
        if (_master >= 0 && LibC.Ioctl(_master, LibC.TIOCSWINSZ, &size) != 0)
        {
            AgentLog.Error("TIOCSWINSZ failed: " + Errno.DescribeLast());
        }
    }

    protected override void Dispose(bool disposing)
    {
        FileDescriptors.CloseQuietly(Interlocked.Exchange(ref _outputCopy, -1));
        FileDescriptors.CloseQuietly(Interlocked.Exchange(ref _inputCopy, -1));
        FileDescriptors.CloseQuietly(Interlocked.Exchange(ref _master, -1));
    }
}
