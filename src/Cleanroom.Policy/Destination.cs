using Cleanroom.Policy.Text;

namespace Cleanroom.Policy;

/// <summary>
/// A host being connected to, normalised exactly like rule hosts so comparisons are plain string or byte
/// equality: either a host name or an IP address, never a pattern.
/// </summary>
internal readonly record struct Destination(string Text, string? Name, byte[]? Address)
{
    public bool IsAddress => Address is not null;

    public static bool TryParse(string host, out Destination destination)
    {
        destination = default;
        var text = host.Trim();
        if (text.Length > 2 && text[0] == '[' && text[^1] == ']')
        {
            text = text[1..^1];
        }

        if (IpLiteral.LooksLikeAddress(text))
        {
            if (!IpLiteral.TryParse(text, out var bytes))
            {
                return false;
            }

            destination = new Destination(IpLiteral.Format(bytes), null, bytes);
            return true;
        }

        if (!HostNameRules.TryNormalize(text, out var name, out _))
        {
            return false;
        }

        destination = new Destination(name, name, null);
        return true;
    }
}
