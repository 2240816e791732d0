import { UserAdmin } from "@/components/users/user-admin.tsx";

export const metadata = { title: "Users · Sagascope" };

export default function UsersPage() {
  return <UserAdmin />;
}
