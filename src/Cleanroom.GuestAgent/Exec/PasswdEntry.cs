namespace Cleanroom.GuestAgent.Exec;

/// <summary>One line of /etc/passwd (name:password:uid:gid:gecos:home:shell) or /etc/group (name:password:gid:members).</summary>
internal sealed record PasswdEntry(string Name, uint Id, uint Gid, string Home);
