namespace Cleanroom.Workspaces.Repositories;

/// <summary>One mirror in the repository store, as <see cref="RepositoryStore.ListMirrors"/> shows it.</summary>
/// <param name="Key">The store's key (a hash of the normalised URL).</param>
/// <param name="Path">The bare mirror's directory.</param>
/// <param name="Url">The normalised URL (never with credentials; from the record, or the key when that is unreadable).</param>
/// <param name="SizeBytes">Bytes of its files now.</param>
/// <param name="LastUseUtc">When a run last used it.</param>
/// <param name="LastFetchUtc">When it was last fetched, when the record says.</param>
public sealed record RepositoryMirrorInfo(string Key, string Path, string Url, long SizeBytes, DateTime LastUseUtc, DateTime? LastFetchUtc);
