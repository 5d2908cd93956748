using System.Text;
using Cleanroom.Escaping;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Cleanroom.Daemon.Connect;

/// <summary>
/// How messages travel in a Connect call: protobuf binary (<c>proto</c>) or protobuf JSON (<c>json</c>, the canonical
/// mapping: lowerCamel names, 64-bit integers as strings, enums by name).
/// </summary>
internal sealed class ConnectCodec
{
    public static readonly ConnectCodec Proto = new("proto", isJson: false);
    public static readonly ConnectCodec Json = new("json", isJson: true);

    // Unknown fields are skipped, as binary decoding skips them: an older daemon still serves a newer client.
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default);
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly bool _isJson;

    private ConnectCodec(string name, bool isJson)
    {
        Name = name;
        _isJson = isJson;
    }

    /// <summary>"proto" or "json", the suffix of the content types.</summary>
    public string Name { get; }

    public IMessage Parse(byte[] data, MessageDescriptor descriptor)
    {
        try
        {
            return _isJson ? Parser.Parse(StrictUtf8.GetString(data), descriptor) : descriptor.Parser.ParseFrom(data);
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or InvalidJsonException or DecoderFallbackException or FormatException)
        {
            // The parser's message may quote what the client sent.
            throw ConnectException.InvalidArgument($"the request is not a valid {descriptor.FullName} in {Name}: {UntrustedText.Escape(ex.Message, 300)}");
        }
    }

    public byte[] Serialize(IMessage message) => _isJson ? Encoding.UTF8.GetBytes(Formatter.Format(message)) : message.ToByteArray();
}
