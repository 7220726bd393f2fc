"""Where pretrained model files live (MXNet's mx.gluon.model_zoo.model_store): `$MXNET_HOME/models` (default
~/.mxnet/models) holds `<name>-<first 8 hex digits of the file's SHA-1>.params`, the names MXNet downloads to.

Polymix does not download (Note [Pretrained files are not downloaded]): a file that is there and has MXNet's
SHA-1 is used, anything else raises an error that says which file to put where."""

import os

from ..utils import check_sha1

__all__ = ["get_model_file", "purge", "short_hash", "data_dir", "default_root"]

# Note [Pretrained files are not downloaded]
# MXNet fetches `<name>-<short hash>.zip` from its model repository when the file is missing or its SHA-1
# differs. Polymix's machines reach no such repository, and a half-working download path is worse than a clear
# error, so get_model_file only looks: the user copies MXNet's file (e.g. from another machine's
# ~/.mxnet/models) into `root`. The SHA-1 table is MXNet's (data, one line per published model): it gives the
# exact file names MXNet uses, so a models folder filled by MXNet works as is, and it rejects a file that is not
# the published one instead of loading unknown weights under a published name.

# The SHA-1 of each published model file (MXNet 1.9.1's table).
_model_sha1 = {
    "alexnet": "44335d1f0046b328243b32a26a4fbd62d9057b45",
    "densenet121": "f27dbf2dbd5ce9a80b102d89c7483342cd33cb31",
    "densenet161": "b6c8a95717e3e761bd88d145f4d0a214aaa515dc",
    "densenet169": "2603f878403c6aa5a71a124c4a3307143d6820e9",
    "densenet201": "1cdbc116bc3a1b65832b18cf53e1cb8e7da017eb",
    "inceptionv3": "ed47ec45a937b656fcc94dabde85495bbef5ba1f",
    "mobilenet0.25": "9f83e440996887baf91a6aff1cccc1c903a64274",
    "mobilenet0.5": "8e9d539cc66aa5efa71c4b6af983b936ab8701c3",
    "mobilenet0.75": "529b2c7f4934e6cb851155b22c96c9ab0a7c4dc2",
    "mobilenet1.0": "6b8c5106c730e8750bcd82ceb75220a3351157cd",
    "mobilenetv2_1.0": "36da4ff1867abccd32b29592d79fc753bca5a215",
    "mobilenetv2_0.75": "e2be7b72a79fe4a750d1dd415afedf01c3ea818d",
    "mobilenetv2_0.5": "aabd26cd335379fcb72ae6c8fac45a70eab11785",
    "mobilenetv2_0.25": "ae8f9392789b04822cbb1d98c27283fc5f8aa0a7",
    "resnet18_v1": "a0666292f0a30ff61f857b0b66efc0228eb6a54b",
    "resnet34_v1": "48216ba99a8b1005d75c0f3a0c422301a0473233",
    "resnet50_v1": "0aee57f96768c0a2d5b23a6ec91eb08dfb0a45ce",
    "resnet101_v1": "d988c13d6159779e907140a638c56f229634cb02",
    "resnet152_v1": "671c637a14387ab9e2654eafd0d493d86b1c8579",
    "resnet18_v2": "a81db45fd7b7a2d12ab97cd88ef0a5ac48b8f657",
    "resnet34_v2": "9d6b80bbc35169de6b6edecffdd6047c56fdd322",
    "resnet50_v2": "ecdde35339c1aadbec4f547857078e734a76fb49",
    "resnet101_v2": "18e93e4f48947e002547f50eabbcc9c83e516aa6",
    "resnet152_v2": "f2695542de38cf7e71ed58f02893d82bb409415e",
    "squeezenet1.0": "264ba4970a0cc87a4f15c96e25246a1307caf523",
    "squeezenet1.1": "33ba0f93753c83d86e1eb397f38a667eaf2e9376",
    "vgg11": "dd221b160977f36a53f464cb54648d227c707a05",
    "vgg11_bn": "ee79a8098a91fbe05b7a973fed2017a6117723a8",
    "vgg13": "6bc5de58a05a5e2e7f493e2d75a580d83efde38c",
    "vgg13_bn": "7d97a06c3c7a1aecc88b6e7385c2b373a249e95e",
    "vgg16": "e660d4569ccb679ec68f1fd3cce07a387252a90a",
    "vgg16_bn": "7f01cf050d357127a73826045c245041b0df7363",
    "vgg19": "ad2f660d101905472b83590b59708b71ea22b2e5",
    "vgg19_bn": "f360b758e856f1074a85abd5fd873ed1d98297c3",
}

# MXNet's model repository; MXNET_GLUON_REPO replaces it, as in MXNet. Only named in error messages.
_APACHE_REPO_URL = "https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/"


def data_dir():
    """MXNet's data folder: $MXNET_HOME, else ~/.mxnet."""
    return os.environ.get("MXNET_HOME", os.path.join(os.path.expanduser("~"), ".mxnet"))


# The constructors' default `root` (fixed when polymix is imported, as MXNet's is).
default_root = os.path.join(data_dir(), "models")


def short_hash(name):
    """The first 8 hex digits of the published file's SHA-1 (part of its file name); ValueError for a model
    without published weights."""
    if name not in _model_sha1:
        raise ValueError("Pretrained model for %s is not available: expected one of %s"
                         % (name, ", ".join(sorted(_model_sha1))))
    return _model_sha1[name][:8]


def get_model_file(name, root=default_root):
    """The path of model `name`'s pretrained file `root/<name>-<short hash>.params`; FileNotFoundError when it is
    not there (Polymix does not download), ValueError when its content is not the published file's."""
    file_name = "%s-%s" % (name, short_hash(name))
    root = os.path.expanduser(root)
    file_path = os.path.join(root, file_name + ".params")
    if not os.path.exists(file_path):
        repo_url = os.environ.get("MXNET_GLUON_REPO", _APACHE_REPO_URL)
        if not repo_url.endswith("/"):
            repo_url += "/"
        raise FileNotFoundError(
            "[model_zoo] no pretrained weights for '%s': expected the file %s. Polymix does not download model "
            "files; copy it from a machine where MXNet's model zoo has downloaded it (its models folder, by default "
            "~/.mxnet/models), or download %sgluon/models/%s.zip and extract %s.params into %s (or pass root= "
            "with the folder that holds it)." % (name, file_path, repo_url, file_name, file_name, root))
    if not check_sha1(file_path, _model_sha1[name]):
        raise ValueError(
            "[model_zoo] %s is not the published '%s' file: expected SHA-1 %s, which its content does not have "
            "(a partial copy or another file under that name?). Replace it with MXNet's file, or load your own "
            "weights with load_parameters." % (file_path, name, _model_sha1[name]))
    return file_path


def purge(root=default_root):
    """Deletes every .params file in `root`."""
    root = os.path.expanduser(root)
    for file_name in os.listdir(root):
        if file_name.endswith(".params"):
            os.remove(os.path.join(root, file_name))


def _load_pretrained(net, name, ctx, root):
    """Loads model `name`'s pretrained file from `root` into `net` on `ctx` (the constructors' pretrained=True)."""
    net.load_parameters(get_model_file(name, root=root), ctx=ctx)
    return net
