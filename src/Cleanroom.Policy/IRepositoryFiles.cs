namespace Cleanroom.Policy;

/// <summary>
/// Answers whether a block's input pattern matches a file in the repository. The compiler asks through this
/// interface so that it stays pure: the CLI passes a <see cref="DirectoryRepositoryFiles"/>, tests pass a fake,
/// and the daemon (which never re-reads repository files) passes nothing.
/// </summary>
public interface IRepositoryFiles
{
    /// <summary>
    /// Looks for a file matching <paramref name="pattern"/>: a normalised repository-relative path whose
    /// segments may contain <c>*</c> and <c>?</c> or be <c>**</c> (any number of directories).
    /// </summary>
    InputMatch Match(string pattern);
}
