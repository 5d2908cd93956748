namespace Cleanroom.Network.Tests.Dns.Support;

/// <summary>Compares allowance calls by value, addresses in order.</summary>
internal sealed class AllowanceCallComparer : IEqualityComparer<AllowanceCall>
{
    public static readonly AllowanceCallComparer Instance = new();

    public bool Equals(AllowanceCall? x, AllowanceCall? y) =>
        x is not null && y is not null && x.SandboxId == y.SandboxId && x.Name == y.Name && x.Addresses.SequenceEqual(y.Addresses);

    public int GetHashCode(AllowanceCall obj) => HashCode.Combine(obj.SandboxId, obj.Name);
}
