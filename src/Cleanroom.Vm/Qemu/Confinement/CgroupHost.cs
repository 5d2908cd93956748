namespace Cleanroom.Vm.Qemu.Confinement;

/// <summary>Which cgroup hierarchy limits VMs on this host.</summary>
public enum CgroupVersion
{
    /// <summary>Neither a v2 hierarchy with the memory and pids controllers nor v1 hierarchies for both.</summary>
    None,
    V1,
    V2,
}

/// <summary>
/// Where VM cgroups go on this host: under the daemon's own cgroup (so whatever limits and accounting the service
/// manager gives the daemon also cover its VMs), in a <c>cleanroom</c> child. v2 is used when a cgroup2 file
/// system offers both the memory and pids controllers; otherwise v1 when both controllers have a v1 hierarchy
/// (the hybrid layout keeps an empty cgroup2 beside them). Read from /proc/self/mountinfo and /proc/self/cgroup.
/// </summary>
/// <param name="Version">The hierarchy in use.</param>
/// <param name="Parents">The directory VM cgroups are created in, per controller ("memory", "pids"); one shared
/// directory under both keys for v2; empty for <see cref="CgroupVersion.None"/>.</param>
/// <param name="Description">What was found, for doctor and logs.</param>
public sealed record CgroupHost(CgroupVersion Version, IReadOnlyDictionary<string, string> Parents, string Description)
{
    /// <summary>The child of the daemon's cgroup that holds one cgroup per VM.</summary>
    public const string GroupName = "cleanroom";

    internal static readonly string[] Controllers = ["memory", "pids"];

    /// <summary>Looks at this process's mounts and cgroups.</summary>
    public static CgroupHost Detect()
    {
        try
        {
            return Parse(File.ReadAllText("/proc/self/mountinfo"), File.ReadAllText("/proc/self/cgroup"), ReadControllers);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return None($"cannot read this process's cgroups: {ex.Message}");
        }
    }

    /// <summary>Pure part of <see cref="Detect"/>; <paramref name="readControllers"/> reads a cgroup2 directory's cgroup.controllers.</summary>
    internal static CgroupHost Parse(string mountinfo, string procSelfCgroup, Func<string, string?> readControllers)
    {
        var mounts = ParseMounts(mountinfo);
        var own = ParseOwnCgroups(procSelfCgroup);

        if (mounts.FirstOrDefault(m => m.FsType == "cgroup2") is { } v2 && own.TryGetValue(string.Empty, out var v2Path))
        {
            var offered = (readControllers(v2.MountPoint) ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (Controllers.All(offered.Contains) && Under(v2, v2Path) is { } dir)
            {
                var parent = Path.Combine(dir, GroupName);
                return new CgroupHost(
                    CgroupVersion.V2,
                    Controllers.ToDictionary(c => c, _ => parent),
                    $"v2 at {v2.MountPoint} with memory and pids; VM cgroups in {parent}");
            }
        }

        var parents = new Dictionary<string, string>();
        foreach (var controller in Controllers)
        {
            var mount = mounts.FirstOrDefault(m => m.FsType == "cgroup" && m.Options.Contains(controller));
            var ownPath = own.FirstOrDefault(kv => kv.Key.Split(',').Contains(controller)).Value;
            if (mount is null || ownPath is null || Under(mount, ownPath) is not { } dir)
            {
                return None($"no cgroup v2 with memory and pids, and no v1 hierarchy for {controller}");
            }

            parents[controller] = Path.Combine(dir, GroupName);
        }

        return new CgroupHost(
            CgroupVersion.V1,
            parents,
            $"v1 (memory and pids hierarchies); VM cgroups in {string.Join(" and ", parents.Values)}");
    }

    private static CgroupHost None(string why) => new(CgroupVersion.None, new Dictionary<string, string>(), why);

    /// <summary>The host directory of cgroup <paramref name="path"/> in <paramref name="mount"/>, or null if the mount does not show it.</summary>
    private static string? Under(Mount mount, string path)
    {
        var root = mount.Root.TrimEnd('/');
        if (path != root && !path.StartsWith(root + "/", StringComparison.Ordinal))
        {
            return null;
        }

        var relative = path[root.Length..].TrimStart('/');
        return relative.Length == 0 ? mount.MountPoint : Path.Combine(mount.MountPoint, relative);
    }

    private static List<Mount> ParseMounts(string mountinfo)
    {
        // "36 25 0:31 / /sys/fs/cgroup/memory rw,relatime shared:14 - cgroup cgroup rw,memory"
        var mounts = new List<Mount>();
        foreach (var line in mountinfo.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ');
            var dash = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || dash < 0 || fields.Length < dash + 4 || !fields[dash + 1].StartsWith("cgroup", StringComparison.Ordinal))
            {
                continue;
            }

            mounts.Add(new Mount(Unescape(fields[3]), Unescape(fields[4]), fields[dash + 1], fields[dash + 3].Split(',')));
        }

        return mounts;
    }

    /// <summary>"4:memory:/a/b" → {"memory": "/a/b"}; the v2 line "0::/x" has the empty key.</summary>
    private static Dictionary<string, string> ParseOwnCgroups(string procSelfCgroup)
    {
        var own = new Dictionary<string, string>();
        foreach (var line in procSelfCgroup.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(':', 3);
            if (parts.Length == 3)
            {
                own.TryAdd(parts[1], parts[2]);
            }
        }

        return own;
    }

    /// <summary>mountinfo escapes space, tab, newline and backslash as octal.</summary>
    private static string Unescape(string field) =>
        field.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal)
            .Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal);

    private static string? ReadControllers(string dir)
    {
        try
        {
            return File.ReadAllText(Path.Combine(dir, "cgroup.controllers"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private sealed record Mount(string Root, string MountPoint, string FsType, string[] Options);
}
