#include "apps/eval/picture_staging.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"

namespace laplex::eval {
namespace {

namespace fs = std::filesystem;

fs::path fresh(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("laplex_staging_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string write(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path.string();
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(PictureStaging, ANewFolderAppearsWithEveryPictureAndNothingStagedMakesNone) {
  const fs::path dir = fresh("new");
  {
    PictureStaging staging((dir / "pics/").string());
    const std::vector<std::string> staged = {write(fs::path(staging.folder()) / "a.png", "a"),
                                             write(fs::path(staging.folder()) / "b.png", "b")};
    EXPECT_FALSE(fs::exists(dir / "pics"));  // nothing shows before commit
    const auto moved = staging.commit(staged);
    EXPECT_EQ(moved, (std::vector<std::string>{(dir / "pics/a.png").string(),
                                               (dir / "pics/b.png").string()}));
  }
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"pics"});  // no hidden folder left
  EXPECT_EQ(names_in(dir / "pics"), (std::vector<std::string>{"a.png", "b.png"}));
  {
    PictureStaging staging((dir / "empty").string());
    EXPECT_TRUE(staging.commit({}).empty());
  }
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"pics"});
}

TEST(PictureStaging, AnExistingFolderKeepsItsOtherFilesAndNothingMovesWhenOneCannot) {
  const fs::path dir = fresh("existing");
  fs::create_directories(dir / "pics/b.png");  // a directory where b.png goes
  write(dir / "pics/notes.txt", "mine");
  write(dir / "pics/a.png", "old");
  {
    PictureStaging staging((dir / "pics").string());
    const std::vector<std::string> staged = {write(fs::path(staging.folder()) / "a.png", "new"),
                                             write(fs::path(staging.folder()) / "b.png", "b")};
    EXPECT_THROW(staging.check_targets(staged), UsageError);
    EXPECT_THROW(staging.commit(staged), UsageError);
  }
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"pics"});
  std::ifstream old(dir / "pics/a.png");
  std::string text;
  old >> text;
  EXPECT_EQ(text, "old");
  fs::remove(dir / "pics/b.png");
  {
    PictureStaging staging((dir / "pics").string());
    staging.commit({write(fs::path(staging.folder()) / "a.png", "new"),
                    write(fs::path(staging.folder()) / "b.png", "b")});
  }
  EXPECT_EQ(names_in(dir / "pics"), (std::vector<std::string>{"a.png", "b.png", "notes.txt"}));
  std::ifstream replaced(dir / "pics/a.png");
  replaced >> text;
  EXPECT_EQ(text, "new");
}

TEST(PictureStaging, AFileWhereTheFolderGoesIsAUsageErrorBeforeAnythingIsMade) {
  const fs::path dir = fresh("file");
  write(dir / "pics", "a file");
  EXPECT_THROW(PictureStaging((dir / "pics").string()), UsageError);
  EXPECT_THROW(PictureStaging((dir / "pics/inner").string()), UsageError);
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"pics"});
}

}  // namespace
}  // namespace laplex::eval
