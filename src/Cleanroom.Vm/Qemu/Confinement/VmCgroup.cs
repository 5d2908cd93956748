using System.Globalization;

namespace Cleanroom.Vm.Qemu.Confinement;

/// <summary>
/// One VM's cgroup (<c>&lt;daemon's cgroup&gt;/cleanroom/&lt;vm id&gt;</c>) with its memory and pids limits. The limits
/// are written when it is created, before any process joins; the launcher then writes its own pid into
/// <see cref="ProcsFiles"/> before it execs QEMU, so QEMU never runs outside it. Removed after the VM is gone.
/// </summary>
internal sealed class VmCgroup
{
    private static readonly TimeSpan RemoveTimeout = TimeSpan.FromSeconds(5);

    private VmCgroup(IReadOnlyList<string> directories, IReadOnlyList<string> procsFiles)
    {
        Directories = directories;
        ProcsFiles = procsFiles;
    }

    /// <summary>The cgroup's directories: one per v1 hierarchy, or the single v2 one.</summary>
    public IReadOnlyList<string> Directories { get; }

    /// <summary>Where a process writes its pid to join (v1 <c>tasks</c>, v2 <c>cgroup.procs</c>).</summary>
    public IReadOnlyList<string> ProcsFiles { get; }

    /// <summary>
    /// Creates the cgroup and writes its limits. Throws <see cref="VmException"/> naming the file that could not be
    /// written; whatever was created is removed again.
    /// </summary>
    public static VmCgroup Create(CgroupHost host, string vmId, long memoryBytes, int pidsMax)
    {
        if (host.Version == CgroupVersion.None)
        {
            throw new InvalidOperationException("No cgroup hierarchy to create a VM cgroup in.");
        }

        var created = new List<string>();
        try
        {
            if (host.Version == CgroupVersion.V2)
            {
                var parent = host.Parents["memory"];
                var dir = Path.Combine(parent, vmId);

                // v2 limits a child only through controllers its ancestors enable for their subtree.
                Write(Path.Combine(Path.GetDirectoryName(parent)!, "cgroup.subtree_control"), "+memory +pids");
                Directory.CreateDirectory(parent);
                Write(Path.Combine(parent, "cgroup.subtree_control"), "+memory +pids");
                MakeDirectory(dir, created);
                Write(Path.Combine(dir, "memory.max"), Number(memoryBytes));
                WriteIfPresent(Path.Combine(dir, "memory.swap.max"), "0");
                Write(Path.Combine(dir, "pids.max"), Number(pidsMax));
                return new VmCgroup([dir], [Path.Combine(dir, "cgroup.procs")]);
            }

            var memory = Path.Combine(host.Parents["memory"], vmId);
            var pids = Path.Combine(host.Parents["pids"], vmId);
            MakeDirectory(memory, created);
            Write(Path.Combine(memory, "memory.limit_in_bytes"), Number(memoryBytes));

            // With swap accounting, memory+swap gets the same limit: no swapping past the memory limit.
            WriteIfPresent(Path.Combine(memory, "memory.memsw.limit_in_bytes"), Number(memoryBytes));
            MakeDirectory(pids, created);
            Write(Path.Combine(pids, "pids.max"), Number(pidsMax));
            return new VmCgroup([memory, pids], [Path.Combine(memory, "tasks"), Path.Combine(pids, "tasks")]);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            RemoveDirectories(created);
            throw new VmException($"Could not set up the cgroup of VM {vmId}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// The cgroup an earlier daemon made for a VM this one takes over: its directories that exist (the limits are
    /// already in them); null when there are none.
    /// </summary>
    public static VmCgroup? Adopt(CgroupHost host, string vmId)
    {
        if (host.Version == CgroupVersion.None)
        {
            return null;
        }

        var existing = DirectoriesFor(host, vmId).Where(Directory.Exists).ToList();
        return existing.Count == 0 ? null : new VmCgroup(existing, []);
    }

    /// <summary>The directories a VM with <paramref name="vmId"/> would have; for removing a crashed daemon's leftovers.</summary>
    public static IReadOnlyList<string> DirectoriesFor(CgroupHost host, string vmId) =>
        [.. host.Parents.Values.Distinct(StringComparer.Ordinal).Select(p => Path.Combine(p, vmId))];

    /// <summary>
    /// Removes the cgroup. Its processes must be gone; the kernel may still be detaching an exited task for a
    /// moment, so a busy cgroup is retried briefly. Returns false (and leaves it) if it stays busy.
    /// </summary>
    public bool Remove() => RemoveDirectories(Directories);

    internal static bool RemoveDirectories(IEnumerable<string> directories)
    {
        var deadline = DateTime.UtcNow + RemoveTimeout;
        var all = true;
        foreach (var dir in directories)
        {
            while (true)
            {
                try
                {
                    // A cgroup directory is removed with rmdir even though it lists control files.
                    if (Directory.Exists(dir))
                    {
                        Directory.Delete(dir);
                    }

                    break;
                }
                catch (IOException) when (DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(10);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    all = false;
                    break;
                }
            }
        }

        return all;
    }

    private static void MakeDirectory(string dir, List<string> created)
    {
        if (Directory.Exists(dir))
        {
            // Left by a crashed run with this id; it must not carry tasks or other limits into this VM.
            if (!RemoveDirectories([dir]))
            {
                throw new IOException($"{dir} already exists and cannot be removed (it still has processes)");
            }
        }

        Directory.CreateDirectory(dir);
        created.Add(dir);
    }

    private static void Write(string file, string value)
    {
        try
        {
            File.WriteAllText(file, value);
        }
        catch (IOException ex)
        {
            throw new IOException($"writing '{value}' to {file} failed: {ex.Message}", ex);
        }
    }

    private static void WriteIfPresent(string file, string value)
    {
        if (File.Exists(file))
        {
            Write(file, value);
        }
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
