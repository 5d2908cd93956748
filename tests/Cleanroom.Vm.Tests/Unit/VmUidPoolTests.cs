using Cleanroom.Vm.Qemu.Confinement;

namespace Cleanroom.Vm.Tests.Unit;

public sealed class VmUidPoolTests
{
    [Fact]
    public void Running_vms_never_share_a_uid_and_a_returned_uid_comes_back_last()
    {
        var pool = new VmUidPool(1000, 3, _ => false);
        using var a = pool.Rent();
        var b = pool.Rent();
        using var c = pool.Rent();
        Assert.Equal([1000, 1001, 1002], new[] { a.Uid, b.Uid, c.Uid });
        Assert.Equal(b.Uid, b.Gid);

        Assert.Throws<VmException>(pool.Rent);
        b.Dispose();
        b.Dispose(); // Returning twice must not free someone else's uid.
        using var d = pool.Rent();
        Assert.Equal(1001, d.Uid);
        Assert.Throws<VmException>(pool.Rent);
    }

    [Fact]
    public void A_uid_some_host_process_still_runs_as_is_skipped()
    {
        var pool = new VmUidPool(500, 4, uid => uid is 500 or 502);
        Assert.Equal(501, pool.Rent().Uid);
        Assert.Equal(503, pool.Rent().Uid);
        var ex = Assert.Throws<VmException>(pool.Rent);
        Assert.Contains("all 4 uids from 500 are in use", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_VM_taken_over_after_a_restart_holds_its_uid_until_it_goes()
    {
        var pool = new VmUidPool(1000, 2, _ => false);
        var adopted = pool.Adopt(1001);
        Assert.NotNull(adopted);
        Assert.Throws<VmException>(() => pool.Adopt(1001)); // two VMs of this daemon never share one
        using var a = pool.Rent();
        Assert.Equal(1000, a.Uid);
        Assert.Throws<VmException>(pool.Rent);
        adopted!.Dispose();
        using var b = pool.Rent();
        Assert.Equal(1001, b.Uid);

        Assert.Null(pool.Adopt(5000)); // outside the range: not this pool's to return
    }

    [Fact]
    public void Process_uids_are_read_from_the_status_line()
    {
        Assert.Equal([1900000001, 1900000001, 1900000001, 1900000001], ProcessUids.ParseUids("Name:\tqemu\nUid:\t1900000001\t1900000001\t1900000001\t1900000001\nGid:\t5\n"));
        Assert.True(ProcessUids.AnyProcessRunsAs(0)); // this test runs as root, or at least init does
    }

    [Fact]
    public void A_range_past_the_largest_uid_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new VmUidPool(int.MaxValue - 1, 3));
    }
}
