using System.Globalization;

namespace Cleanroom.Vm.Qemu.Confinement;

/// <summary>
/// Turns QEMU's argv and a <see cref="QemuConfinement"/> into the command that starts it confined, in the order of
/// Firecracker's jailer: join the cgroups, build the jail and pivot into it (host lookups first, while the host's
/// file systems are still visible), drop to the VM's uid with no groups, no capabilities and no_new_privs, clear
/// the environment, exec QEMU. Every step is exec, never fork, so the launched pid is QEMU's pid. Pure.
/// </summary>
/// <remarks>
/// Every external command the script runs costs a process start, which on a paravirtualised host is several
/// milliseconds, and the script runs before every VM: builtins are used where they do the job (<c>cd -P</c> to resolve
/// a top-level symlink, <c>: &gt;</c> for a file), and a directory's mount point is made by <c>mount</c> itself
/// (<c>X-mount.mkdir</c>).
/// The launcher is a fixed POSIX shell script run with <c>sh -c</c>; every value reaches it as a separate argument
/// (<c>kind:value</c> steps, then <c>--</c> and QEMU's argv), never as shell text, so no path can inject commands.
/// As root it runs under <c>unshare --mount --propagation slave</c>, so its mounts exist only in QEMU's namespace
/// and vanish with it: nothing is left to unmount on the host.
/// </remarks>
internal static class QemuLauncher
{
    /// <summary>$0 of the launcher script, seen in `ps` for the instant before QEMU replaces it.</summary>
    public const string ScriptName = "cleanroom-qemu-launcher";

    public const string ShellPath = "/bin/sh";

    public const string UnsharePath = "/usr/bin/unshare";

    /// <summary>Host tools the launcher runs besides the shell and coreutils (util-linux, Debian's paths).</summary>
    public static readonly IReadOnlyList<string> RequiredTools = [UnsharePath, "/usr/bin/setpriv", "/usr/sbin/pivot_root", "/usr/bin/mount", "/usr/bin/umount", "/usr/bin/mknod"];

    /// <summary>Exit code of the script when a confinement step fails (QEMU never started).</summary>
    public const int SetupFailedExitCode = 125;

    /// <summary>
    /// The launcher. Steps: <c>cgroup:FILE</c> (write own pid), <c>user:UID:GID</c>, <c>jail:DIR</c> (mount the jail's
    /// tmpfs root on DIR, with /dev/null, zero, random, urandom), <c>ro:PATH</c> / <c>rw:PATH</c> (bind into the jail
    /// at the same path, over what an earlier bind already shows there; a top-level symlink such as /bin -> usr/bin
    /// is recreated instead, pointing at the absolute directory it resolves to; a path missing on the host is skipped),
    /// <c>kvm:DEVICE</c>, <c>ownproc:</c> (keep a /proc
    /// showing only QEMU's own processes). After the steps: pivot_root into the jail (a fresh /proc is mounted only
    /// long enough for umount to detach the old root), remount the jail root read-only, then exec QEMU through env -i and setpriv.
    /// </summary>
    public const string Script = """
        set -eu
        umask 022
        fail() { echo "$0: $*" >&2; exit 125; }
        uid= gid= jail= ownproc=
        while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
          step=$1
          shift
          case "$step" in
            cgroup:*) echo "$$" > "${step#cgroup:}" || fail "cannot join cgroup ${step#cgroup:}" ;;
            user:*) ids=${step#user:}; uid=${ids%%:*}; gid=${ids#*:} ;;
            jail:*)
              jail=${step#jail:}
              mount -t tmpfs -o mode=0755,size=1m,nosuid cleanroom-jail "$jail" || fail "cannot mount the jail on $jail"
              mkdir "$jail/dev"
              mknod -m 666 "$jail/dev/null" c 1 3
              mknod -m 666 "$jail/dev/zero" c 1 5
              mknod -m 666 "$jail/dev/random" c 1 8
              mknod -m 666 "$jail/dev/urandom" c 1 9 ;;
            ro:*|rw:*)
              [ -n "$jail" ] || fail "$step before jail"
              p=${step#r?:}
              if [ -L "$p" ] && [ "${p%/*}" = "" ]; then
                if cd -P "$p" 2>/dev/null; then target=$PWD; cd /; else target=$(readlink "$p"); fi
                ln -s "$target" "$jail$p"
              elif [ -e "$p" ]; then
                if [ "${step%%:*}" = ro ]; then opts=ro,nosuid,nodev; else opts=nosuid,nodev; fi
                if [ -d "$p" ]; then opts=$opts,X-mount.mkdir; elif [ ! -e "$jail$p" ]; then [ -d "$jail${p%/*}" ] || mkdir -p "$jail${p%/*}"; : > "$jail$p"; fi
                mount --bind -o "$opts" "$p" "$jail$p" || fail "cannot bind $p into the jail"
              fi ;;
            ownproc:) ownproc=1 ;;
            kvm:*)
              [ -n "$jail" ] || fail "$step before jail"
              mknod -m 600 "$jail/dev/kvm" c $(stat -L -c '0x%t 0x%T' "${step#kvm:}")
              if [ -n "$uid" ]; then chown "$uid:$gid" "$jail/dev/kvm"; fi ;;
            *) fail "unknown step $step" ;;
          esac
        done
        [ "$#" -gt 1 ] || fail "no command after --"
        shift
        if [ -n "$jail" ]; then
          cd "$jail"
          mkdir old-root proc
          pivot_root . old-root || fail "pivot_root into $jail failed"
          cd /
          mount -t proc proc /proc
          umount -l /old-root
          rmdir /old-root
          umount /proc
          if [ -n "$ownproc" ]; then
            mount -t proc -o nosuid,nodev,noexec,hidepid=invisible,subset=pid proc /proc || fail "cannot mount a private /proc"
          else
            rmdir /proc
          fi
          mount -o remount,ro,nosuid,bind / || fail "cannot make the jail root read-only"
        fi
        if [ -n "$uid" ]; then
          exec env -i PATH=/usr/bin:/bin LANG=C setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs --bounding-set=-all --inh-caps=-all -- "$@"
        fi
        exec env -i PATH=/usr/bin:/bin LANG=C setpriv --no-new-privs -- "$@"
        """;

    /// <summary>
    /// The command that runs <paramref name="qemuPath"/> with <paramref name="qemuArgs"/> under
    /// <paramref name="confinement"/>.
    /// </summary>
    public static ProcessLaunch Build(string qemuPath, IReadOnlyList<string> qemuArgs, QemuConfinement confinement)
    {
        ArgumentNullException.ThrowIfNull(qemuArgs);
        ArgumentNullException.ThrowIfNull(confinement);
        var steps = new List<string>();
        steps.AddRange(confinement.CgroupProcsFiles.Select(f => "cgroup:" + Absolute(f)));
        if (confinement.User is var (uid, gid))
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(uid, 1);
            ArgumentOutOfRangeException.ThrowIfLessThan(gid, 1);
            steps.Add(string.Create(CultureInfo.InvariantCulture, $"user:{uid}:{gid}"));
        }

        if (confinement.JailMountPoint is { } jail)
        {
            steps.Add("jail:" + Absolute(jail));

            // Parents before children, so a bind under an earlier bind's target lands inside it.
            var binds = confinement.ReadOnlyPaths.Select(p => (Kind: "ro:", Path: Absolute(p)))
                .Concat(confinement.ReadWritePaths.Select(p => (Kind: "rw:", Path: Absolute(p))))
                .OrderBy(b => b.Path.Count(c => c == '/'))
                .ThenBy(b => b.Path, StringComparer.Ordinal);
            steps.AddRange(binds.Select(b => b.Kind + b.Path));
            if (confinement.KvmDevice is { } kvm)
            {
                steps.Add("kvm:" + Absolute(kvm));
            }

            if (confinement.OwnProcessesProc)
            {
                steps.Add("ownproc:");
            }
        }
        else if (confinement.ReadOnlyPaths.Count + confinement.ReadWritePaths.Count > 0 || confinement.KvmDevice is not null)
        {
            throw new ArgumentException("Bind mounts and a KVM device need a jail mount point.", nameof(confinement));
        }

        var args = new List<string>();
        var file = ShellPath;
        if (confinement.JailMountPoint is not null)
        {
            file = UnsharePath;
            args.AddRange(["--mount", "--propagation", "slave", "--", ShellPath]);
        }

        args.AddRange(["-c", Script, ScriptName, .. steps, "--", Absolute(qemuPath), .. qemuArgs]);
        return new ProcessLaunch(file, args, ProcessLaunch.ScrubbedEnvironment);
    }

    private static string Absolute(string path) =>
        Path.IsPathFullyQualified(path) && !path.Contains('\n', StringComparison.Ordinal)
            ? path.TrimEnd('/') is { Length: > 0 } trimmed ? trimmed : "/"
            : throw new ArgumentException($"Confinement paths must be absolute, without newlines: '{path}'.", nameof(path));
}
