using Cleanroom.Vm.Qemu.Confinement;

namespace Cleanroom.Vm.Tests.Unit;

public sealed class CgroupHostTests
{
    private const string HybridMounts = """
        30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
        40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """;

    private const string HybridSelf = """
        9:name=systemd:/
        8:pids:/
        4:memory:/process_api/abc
        1:cpu:/
        0::/
        """;

    [Fact]
    public void Hybrid_v1_with_an_empty_v2_uses_the_v1_hierarchies_under_the_daemons_own_cgroups()
    {
        var host = CgroupHost.Parse(HybridMounts, HybridSelf, _ => "");

        Assert.Equal(CgroupVersion.V1, host.Version);
        Assert.Equal("/sys/fs/cgroup/memory/process_api/abc/cleanroom", host.Parents["memory"]);
        Assert.Equal("/sys/fs/cgroup/pids/cleanroom", host.Parents["pids"]);
    }

    [Fact]
    public void Unified_v2_with_both_controllers_wins()
    {
        const string mounts = "29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
        var host = CgroupHost.Parse(mounts, "0::/system.slice/cleanroom.service\n", dir => dir == "/sys/fs/cgroup" ? "cpuset cpu io memory hugetlb pids rdma misc\n" : null);

        Assert.Equal(CgroupVersion.V2, host.Version);
        Assert.Equal("/sys/fs/cgroup/system.slice/cleanroom.service/cleanroom", host.Parents["memory"]);
        Assert.Equal(host.Parents["memory"], host.Parents["pids"]);
    }

    [Fact]
    public void A_cgroup_namespace_root_is_stripped_from_the_processs_path()
    {
        const string mounts = "34 30 0:31 /outer /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n38 30 0:35 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
        var host = CgroupHost.Parse(mounts, "4:memory:/outer/inner\n8:pids:/\n", _ => null);

        Assert.Equal("/sys/fs/cgroup/memory/inner/cleanroom", host.Parents["memory"]);
    }

    [Fact]
    public void Without_a_pids_controller_there_are_no_limits_and_the_reason_says_why()
    {
        const string mounts = "34 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n40 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
        var host = CgroupHost.Parse(mounts, "4:memory:/\n0::/\n", _ => "memory\n");

        Assert.Equal(CgroupVersion.None, host.Version);
        Assert.Empty(host.Parents);
        Assert.Contains("no v1 hierarchy for pids", host.Description, StringComparison.Ordinal);
    }
}
