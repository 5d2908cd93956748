using Cleanroom.Jail;

// Builds QEMU's jail and execs QEMU, in the order of Firecracker's jailer: join the cgroups, build the jail and pivot
// into it (host lookups first, while the host's file systems are still visible), drop to the VM's uid with no groups,
// no capabilities and no_new_privs, with nothing of the environment but PATH and LANG, exec the command. Nothing is
// forked: the launched pid is QEMU's pid.
try
{
    _ = LibC.umask(0x12); // 022: what the jail makes is readable, never writable, by others
    var plan = JailPlan.Parse(args);
    var lastCapability = plan.User is null ? 0 : Privileges.LastCapability();
    JailBuilder.Build(plan);
    if (plan.Jail is { } jail)
    {
        JailBuilder.Enter(jail, plan.OwnProc);
    }

    Privileges.Drop(plan.User, lastCapability);
    Privileges.Exec(plan.Command);
    return JailFailure.ExitCode; // not reached: Exec returns only by throwing
}
catch (JailFailure ex)
{
    Console.Error.WriteLine("cleanroom-jail: " + ex.Message);
    return JailFailure.ExitCode;
}
catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
{
    // A mount point or file the jail needs could not be made (Directory.CreateDirectory, File.Create).
    Console.Error.WriteLine("cleanroom-jail: cannot prepare the jail: " + ex.Message);
    return JailFailure.ExitCode;
}
