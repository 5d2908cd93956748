using Cleanroom.Api.V1;

namespace Cleanroom.Cli.Tests.FakeDaemon;

/// <summary>What one ImportImage call sent: the ref of its first message, every chunk's size, and the bytes.</summary>
internal sealed class FakeImport
{
    public string Ref { get; private set; } = "";

    /// <summary>Refs found on messages after the first (the client must send it once).</summary>
    public List<string> LaterRefs { get; } = [];

    public List<int> ChunkSizes { get; } = [];

    public MemoryStream Data { get; } = new();

    public void Add(ImportImageChunk chunk)
    {
        if (ChunkSizes.Count == 0)
        {
            Ref = chunk.Ref;
        }
        else if (chunk.Ref.Length > 0)
        {
            LaterRefs.Add(chunk.Ref);
        }

        ChunkSizes.Add(chunk.Data.Length);
        chunk.Data.WriteTo(Data);
    }
}
