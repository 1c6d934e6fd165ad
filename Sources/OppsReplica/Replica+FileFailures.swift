import OppsStore

extension StoreError {
    /// What a rep is told when the replica's file or its disk failed (`StoreError.fileFailure`),
    /// in English and Chinese: what happened, that nothing on this laptop was changed (SQLite
    /// rolled the edit back), and what to do. Nil for any other store error.
    public func replicaReason(home: String) -> (english: String, chinese: String)? {
        switch fileFailure {
        case .diskFullOrFailing?:
            return (
                "cannot write to the replica in \(home): its disk is full or failing; nothing on this laptop was changed: free some space, then run the command again",
                "无法写入 \(home) 里的副本：磁盘满了或出了故障；本机什么也没有改：腾出空间后再运行一次"
            )
        case .notWritable?:
            return (
                "cannot write to the replica in \(home): it is read-only for this user (check the folder's permissions); nothing on this laptop was changed",
                "无法写入 \(home) 里的副本：当前用户对它只读（请检查文件夹的权限）；本机什么也没有改"
            )
        case .damaged?:
            return (
                "the replica in \(home) is damaged and cannot be read: keep the folder (edits not yet synced are only there) and make a new replica with opps init --home in another folder",
                "\(home) 里的副本已损坏，无法读取：请保留这个文件夹（还没同步的修改只在里面），用 opps init --home 在另一个文件夹新建副本"
            )
        case nil:
            return nil
        }
    }
}
