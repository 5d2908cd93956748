namespace Cleanroom.Network.Guard;

/// <summary>
/// Decides what a guest's first bytes are: a TLS handshake record goes to <see cref="ClientHelloParser"/>, everything
/// else to <see cref="HttpRequestParser"/>, which calls what is not HTTP <see cref="FirstMessageKind.Other"/>.
/// </summary>
internal static class FirstMessageClassifier
{
    public static FirstMessage Classify(ReadOnlySpan<byte> data, int maxHandshakeLength)
    {
        if (data.IsEmpty)
        {
            return FirstMessage.NeedMore;
        }

        // 22 then 3 is a TLS handshake record header; 22 followed by anything else is some other protocol.
        return data[0] == 22 && (data.Length < 2 || data[1] == 3)
            ? ClientHelloParser.Parse(data, maxHandshakeLength)
            : HttpRequestParser.Parse(data);
    }
}
