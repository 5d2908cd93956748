using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Vm.Templates;

/// <summary>
/// A VM booted once until its agent served, then saved: its memory in a sealed memfd (no process can write it any
/// more; clones map it privately, copy-on-write, so every clone shares the pages it has not written), its device
/// state in <see cref="StatePath"/> and its root disk as it was at the snapshot in <see cref="RootOverlayPath"/>.
/// Files never change after the build. A clone holds a <see cref="Lease"/> while it starts (its QEMU inherits the
/// memfd by number and copies the files); disposing the template only marks it discarded, and the memfd is closed and
/// the directory deleted when the last lease ends. Running clones keep their own mappings.
/// </summary>
public sealed class VmTemplate : IDisposable
{
    private readonly Lock _gate = new();
    private int _leases;
    private bool _discarded;
    private bool _released;

    internal VmTemplate(VmTemplateRequest request, string directory, SafeFileHandle memory, string kernelCommandLine, TimeSpan buildTime)
    {
        Request = request;
        Directory = directory;
        Memory = memory;
        KernelCommandLine = kernelCommandLine;
        BuildTime = buildTime;
        CreatedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>What the template was built for; a clone's spec must match it.</summary>
    public VmTemplateRequest Request { get; }

    public string Directory { get; }

    public DateTimeOffset CreatedAt { get; }

    /// <summary>How long the template VM took from launch to a saved snapshot.</summary>
    public TimeSpan BuildTime { get; }

    /// <summary>Bytes of guest memory the template holds in RAM (the memfd's allocated pages).</summary>
    public long ResidentBytes => Memfd.AllocatedBytes(Memory);

    /// <summary>Bytes the template's files take on disk (state and root overlay).</summary>
    public long DiskBytes => SizeOf(StatePath) + SizeOf(RootOverlayPath);

    /// <summary>The sealed memfd holding guest RAM; inherited by clones under the same number.</summary>
    internal SafeFileHandle Memory { get; }

    /// <summary>The command line the template's kernel booted with (a clone passes the same one).</summary>
    internal string KernelCommandLine { get; }

    internal string StatePath => Path.Combine(Directory, "device.state");

    internal string RootOverlayPath => Path.Combine(Directory, "root.qcow2");

    /// <summary>A tiny raw disk standing in for the workspace while the template boots; each clone attaches its own.</summary>
    internal string WorkspacePlaceholderPath => Path.Combine(Directory, "workspace.placeholder");

    public bool IsDisposed
    {
        get
        {
            lock (_gate)
            {
                return _discarded;
            }
        }
    }

    /// <summary>Keeps the template's memfd and files alive until disposed; null when the template was discarded.</summary>
    public IDisposable? TryLease()
    {
        lock (_gate)
        {
            if (_discarded)
            {
                return null;
            }

            _leases++;
            return new Lease(this);
        }
    }

    /// <summary>Why <paramref name="spec"/> cannot be restored from this template, or null when it can.</summary>
    public string? Mismatch(VmSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return IsDisposed ? "the template was discarded"
            : spec.Vcpus != Request.Vcpus ? $"vCPUs {spec.Vcpus} differ from the template's {Request.Vcpus}"
            : spec.MemoryMiB != Request.MemoryMiB ? $"memory {spec.MemoryMiB} MiB differs from the template's {Request.MemoryMiB} MiB"
            : (spec.Network is not null) != Request.Network ? "the network device differs from the template's"
            : (spec.WorkspaceImagePath is not null) != Request.Workspace ? "the workspace disk differs from the template's"
            : spec.RootDiskMinBytes is not null ? "a grown root disk is not templated"
            : !string.Equals(Path.GetFullPath(spec.EffectiveRootImagePath), Path.GetFullPath(Request.RootImagePath), StringComparison.Ordinal) ? "the root image differs from the template's"
            : spec.Assets != Request.Assets ? "the boot assets differ from the template's"
            : !File.Exists(StatePath) || !File.Exists(RootOverlayPath) ? "the template's files are missing"
            : null;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _discarded = true;
            if (_leases > 0 || _released)
            {
                return;
            }

            _released = true;
        }

        Release();
    }

    private void EndLease()
    {
        lock (_gate)
        {
            if (--_leases > 0 || !_discarded || _released)
            {
                return;
            }

            _released = true;
        }

        Release();
    }

    private void Release()
    {
        Memory.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the daemon's template directory is swept at start.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed class Lease(VmTemplate template) : IDisposable
    {
        private int _ended;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                template.EndLease();
            }
        }
    }

    private static long SizeOf(string path)
    {
        try
        {
            return new FileInfo(path).Length;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
