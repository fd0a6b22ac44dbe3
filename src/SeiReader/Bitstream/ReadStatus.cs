namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>Why a read returned: it produced an item, ran out of input, needs more input, or met bad bytes.</summary>
    public enum ReadStatus
    {
        /// <summary>An item was read.</summary>
        Success,

        /// <summary>The input ended cleanly; there are no more items.</summary>
        EndOfData,

        /// <summary>
        /// The input ends inside an item and the caller said more input may follow (<c>isFinalBlock: false</c>):
        /// call again with the bytes from <c>BytesConsumed</c> on, plus more.
        /// </summary>
        NeedMoreData,

        /// <summary>The bytes break the syntax; the reader's <c>Error</c> and <c>ErrorOffset</c> say what and where.</summary>
        Malformed,
    }
}
