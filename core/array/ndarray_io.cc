#include "core/array/ndarray_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_format.h"
#include "core/array/internal/params_format.h"
#include "core/base/error.h"

namespace pmx {
namespace params {
namespace {

using params_format::ByteReader;
using params_format::ByteWriter;

void CheckNames(const std::vector<NDArray>& arrays, const std::vector<std::string>& names) {
  PMX_CHECK(names.empty() || names.size() == arrays.size(), kValueError,
            "[save] got %d names for %d arrays: expected no names (a list) or one per array (a dict)", names.size(),
            arrays.size());
}

void WriteList(ByteWriter& writer, const std::vector<NDArray>& arrays, const std::vector<std::string>& names) {
  params_format::WriteListHeader(writer, arrays.size());
  for (const NDArray& array : arrays) {
    if (array.is_none()) {
      params_format::WriteArrayHeader(writer, Shape(), DType::kFloat32, /*none=*/true);
      continue;
    }
    const NDArray host = array.device().is_host() ? array : array.CopyTo(Device::cpu());
    host.WaitToRead();  // After it, the host memory holds every write pushed before Save.
    params_format::WriteArrayHeader(writer, host.shape(), host.dtype());
    writer.Write(host.data(), host.nbytes());
  }
  params_format::WriteNames(writer, names);
}

ArrayList ReadList(ByteReader& reader) {
  const uint64_t count = params_format::ReadListHeader(reader);
  ArrayList list;
  list.arrays.reserve(count);
  for (uint64_t index = 0; index < count; ++index) {
    const params_format::ArrayHeader header = params_format::ReadArrayHeader(reader, index);
    if (header.none) {
      list.arrays.emplace_back();
      continue;
    }
    // A fresh array has no pending operations, so its memory can be filled directly.
    NDArray array = NDArray::Empty(header.shape, header.dtype, Device::cpu());
    reader.Read(array.data(), header.data_bytes, "array data");
    list.arrays.push_back(std::move(array));
  }
  list.names = params_format::ReadNames(reader, count);
  return list;
}

// A temporary file next to the destination, removed unless Commit renames it over the destination.
class TemporaryFile {
 public:
  explicit TemporaryFile(const std::string& destination) : destination_(destination) {
    static std::atomic<uint64_t> counter{0};
    for (int attempt = 0; attempt < 100 && file_ == nullptr; ++attempt) {
      path_ = absl::StrFormat("%s.tmp-%d-%d", destination, static_cast<int64_t>(getpid()), counter++);
      // 0666 before the umask: the same permissions a plain fopen would give the file.
      const int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd < 0 && errno == EEXIST) continue;
      PMX_CHECK(fd >= 0, kRuntimeError, "[save] cannot create '%s' (to write '%s'): %s", path_, destination,
                std::strerror(errno));
      file_ = fdopen(fd, "wb");
      if (file_ == nullptr) {
        const int error = errno;
        close(fd);
        unlink(path_.c_str());
        Throw(ErrorKind::kRuntimeError, "[save] cannot open '%s': %s", path_, std::strerror(error));
      }
    }
    PMX_CHECK(file_ != nullptr, kRuntimeError, "[save] cannot find a free temporary name next to '%s'", destination);
  }

  ~TemporaryFile() {
    if (file_ != nullptr) std::fclose(file_);
    if (!committed_) unlink(path_.c_str());
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;

  std::FILE* file() const { return file_; }

  // Flushes the data to disk and renames the temporary over the destination.
  void Commit() {
    const bool flushed = std::fflush(file_) == 0 && fsync(fileno(file_)) == 0;
    const int flush_error = errno;
    const bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    PMX_CHECK(flushed && closed, kRuntimeError, "[save] writing '%s' failed: %s", destination_,
              std::strerror(flushed ? errno : flush_error));
    PMX_CHECK(std::rename(path_.c_str(), destination_.c_str()) == 0, kRuntimeError,
              "[save] cannot rename '%s' to '%s': %s", path_, destination_, std::strerror(errno));
    committed_ = true;
  }

 private:
  std::string destination_;
  std::string path_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

}  // namespace

void Save(const std::string& path, const std::vector<NDArray>& arrays, const std::vector<std::string>& names) {
  CheckNames(arrays, names);
  TemporaryFile temporary(path);
  ByteWriter writer(temporary.file(), path);
  WriteList(writer, arrays, names);
  temporary.Commit();
}

ArrayList Load(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  PMX_CHECK(file != nullptr, kValueError, "[load] cannot open '%s': %s", path, std::strerror(errno));
  struct FileCloser {
    std::FILE* file;
    ~FileCloser() { std::fclose(file); }
  } closer{file};
  struct stat status;
  PMX_CHECK(fstat(fileno(file), &status) == 0, kRuntimeError, "[load] cannot stat '%s': %s", path,
            std::strerror(errno));
  PMX_CHECK(S_ISREG(status.st_mode), kValueError, "[load] '%s' is not a regular file", path);
  ByteReader reader(file, static_cast<uint64_t>(status.st_size), path);
  return ReadList(reader);
}

std::string SaveToBytes(const std::vector<NDArray>& arrays, const std::vector<std::string>& names) {
  CheckNames(arrays, names);
  std::string bytes;
  ByteWriter writer(&bytes);
  WriteList(writer, arrays, names);
  return bytes;
}

ArrayList LoadFromBytes(std::string_view bytes) {
  ByteReader reader(bytes, "<bytes>");
  return ReadList(reader);
}

}  // namespace params
}  // namespace pmx
