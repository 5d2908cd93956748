using System.Globalization;

namespace Cleanroom.Jail;

/// <summary>
/// The launcher's arguments: steps (<c>cgroup:FILE</c>, <c>user:UID:GID</c>, <c>jail:DIR</c>, <c>ro:PATH</c>,
/// <c>rw:PATH</c>, <c>kvm:DEVICE</c>, <c>ownproc:</c>), then <c>--</c> and the command with its arguments. Parsed
/// completely before anything is done, so a malformed launch changes nothing.
/// </summary>
internal sealed record JailPlan(IReadOnlyList<JailStep> Steps, (uint Uid, uint Gid)? User, string? Jail, bool OwnProc, IReadOnlyList<string> Command)
{
    public static JailPlan Parse(IReadOnlyList<string> args)
    {
        var steps = new List<JailStep>();
        (uint, uint)? user = null;
        string? jail = null;
        var ownProc = false;
        var i = 0;
        for (; i < args.Count && args[i] != "--"; i++)
        {
            var step = args[i];
            var colon = step.IndexOf(':', StringComparison.Ordinal);
            var (kind, value) = colon < 0 ? (step, "") : (step[..colon], step[(colon + 1)..]);
            switch (kind)
            {
                case "user":
                    var ids = value.Split(':');
                    if (ids.Length != 2 || !uint.TryParse(ids[0], NumberStyles.None, CultureInfo.InvariantCulture, out var uid) ||
                        !uint.TryParse(ids[1], NumberStyles.None, CultureInfo.InvariantCulture, out var gid) || uid == 0 || gid == 0)
                    {
                        throw new JailFailure($"bad step {step}: user:UID:GID with both above 0");
                    }

                    user = (uid, gid);
                    break;
                case "ownproc" when value.Length == 0:
                    ownProc = true;
                    break;
                case "jail" or "cgroup" or "ro" or "rw" or "kvm":
                    if (!Path.IsPathFullyQualified(value))
                    {
                        throw new JailFailure($"bad step {step}: the path must be absolute");
                    }

                    if (kind is "ro" or "rw" or "kvm" && jail is null)
                    {
                        throw new JailFailure($"{step} before jail");
                    }

                    if (kind == "jail")
                    {
                        jail = value;
                    }

                    steps.Add(new JailStep(kind, value));
                    break;
                default:
                    throw new JailFailure("unknown step " + step);
            }
        }

        if (i + 1 >= args.Count || !Path.IsPathFullyQualified(args[i + 1]))
        {
            throw new JailFailure("no command after --, or not by its absolute path");
        }

        return new JailPlan(steps, user, jail, ownProc, args.Skip(i + 1).ToList());
    }
}

/// <summary>One step that changes something, in the order given.</summary>
internal sealed record JailStep(string Kind, string Path);
