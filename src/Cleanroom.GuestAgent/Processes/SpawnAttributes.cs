using System.Runtime.InteropServices;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Processes;

/// <summary>
/// A posix_spawnattr_t that resets every signal to its default action and clears the signal mask: the .NET runtime
/// ignores SIGPIPE and blocks signals on some threads, and a child must inherit neither.
/// The default set is all ones rather than sigfillset's: sigfillset leaves out glibc's internal signals 32 and 33,
/// and for those posix_spawn would then set SIG_IGN in the child, which survives exec.
/// </summary>
internal sealed unsafe class SpawnAttributes : IDisposable
{
    // glibc's posix_spawnattr_t is 336 bytes; allocate generously so a larger libc layout cannot overrun it.
    private const int AttributesBytes = 1024;
    private void* _attributes;
    private void* _defaultSignals;
    private void* _signalMask;

    public SpawnAttributes(bool newSession)
    {
        _attributes = NativeMemory.AllocZeroed(AttributesBytes);
        _defaultSignals = NativeMemory.AllocZeroed(LibC.SigSetSize);
        _signalMask = NativeMemory.AllocZeroed(LibC.SigSetSize);
        Check(LibC.PosixSpawnAttrInit(_attributes), "posix_spawnattr_init");
        new Span<byte>(_defaultSignals, LibC.SigSetSize).Fill(0xff);
        _ = LibC.SigEmptySet(_signalMask);
        Check(LibC.PosixSpawnAttrSetSigDefault(_attributes, _defaultSignals), "posix_spawnattr_setsigdefault");
        Check(LibC.PosixSpawnAttrSetSigMask(_attributes, _signalMask), "posix_spawnattr_setsigmask");
        var flags = (short)(LibC.POSIX_SPAWN_SETSIGDEF | LibC.POSIX_SPAWN_SETSIGMASK);
        if (newSession)
        {
            flags |= LibC.POSIX_SPAWN_SETSID;
        }
        else
        {
            flags |= LibC.POSIX_SPAWN_SETPGROUP;
            Check(LibC.PosixSpawnAttrSetPGroup(_attributes, 0), "posix_spawnattr_setpgroup");
        }

        Check(LibC.PosixSpawnAttrSetFlags(_attributes, flags), "posix_spawnattr_setflags");
    }

    public void* Pointer => _attributes;

    public void Dispose()
    {
        if (_attributes != null)
        {
            _ = LibC.PosixSpawnAttrDestroy(_attributes);
            NativeMemory.Free(_attributes);
            NativeMemory.Free(_defaultSignals);
            NativeMemory.Free(_signalMask);
            _attributes = null;
        }
    }

    private static void Check(int result, string what)
    {
        if (result != 0)
        {
            throw new IOException($"{what} failed: {Errno.Describe(result)}");
        }
    }
}
