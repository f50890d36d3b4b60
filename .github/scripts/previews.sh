#!/usr/bin/env bash
# The previews of pull requests, on the gh-pages branch that GitHub Pages serves:
#   previews.sh publish NUMBER SITE   copies the built SITE to apercus/NUMBER/ (without the editor)
#   previews.sh remove NUMBER         deletes apercus/NUMBER/ (the pull request is closed)
# Several pull requests may publish at once: each push adds one commit on top of the branch as it
# is, and starts again from the new branch when another push got there first.
set -euo pipefail
action=$1 number=$2 site=${3:-}
case "$number" in ''|*[!0-9]*) echo "previews.sh: not a pull request number: $number" >&2; exit 2;; esac
export GIT_AUTHOR_NAME="Aperçus" GIT_COMMITTER_NAME="Aperçus"
export GIT_AUTHOR_EMAIL="41898282+github-actions[bot]@users.noreply.github.com"
export GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
work=$(mktemp -d)
trap 'git worktree remove --force "$work" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
for attempt in 1 2 3 4 5; do
  if git fetch --quiet origin gh-pages 2>/dev/null; then
    parent=$(git rev-parse FETCH_HEAD)
    git worktree add --quiet --force --detach "$work" "$parent"
  else
    parent=""
    git worktree add --quiet --force --detach "$work" HEAD
    git -C "$work" rm -rq --ignore-unmatch .
  fi
  rm -rf "$work/apercus/$number"
  if [ "$action" = publish ]; then
    mkdir -p "$work/apercus"
    cp -R "$site" "$work/apercus/$number"
    rm -rf "$work/apercus/$number/admin"
  fi
  touch "$work/.nojekyll"
  git -C "$work" add -A
  tree=$(git -C "$work" write-tree)
  message="Aperçu de la demande $number : $action"
  commit=$(git -C "$work" commit-tree "$tree" ${parent:+-p "$parent"} -m "$message")
  git worktree remove --force "$work"
  if git push --quiet origin "$commit:refs/heads/gh-pages"; then
    exit 0
  fi
  echo "previews.sh: gh-pages moved meanwhile, attempt $attempt again" >&2
  sleep $((attempt * 2))
done
echo "previews.sh: could not update gh-pages" >&2
exit 1
